"""The fixed cost of a request: the project's routes beside a bare FastAPI app, in one run.

Two uvicorn processes on 127.0.0.1, one worker each, started the same way (`cli.main`'s
`UVICORN_OPTIONS`): a bare FastAPI app whose `GET /health` returns a dict, and
`crypto-assistant serve` with BTC-USD daily bars (the shared file, or --synthetic). wrk (1 thread)
measures the bare `/health`, the project's `GET /health`, a cached `GET /historical-data` window
and a warm `POST /technical` (a Lua script sends the body), once the project's start-up work in
the background is done. The project logs at INFO by default, so every request writes its access
log line as in production (to a file).

With --rounds N the four runs are repeated N times, interleaved; the table shows, per run, the
round with the median req/s (its p50 and p99 beside it). The last column is the server's CPU time
per request, the steadier figure while other jobs share the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from common import free_port, price_folder, scratch_postgres, wrk
from rich.console import Console
from rich.table import Table
from served_api import PYTHON, ROOT, UNLIMITED, api_process

BARE = """
import sys
import uvicorn
from fastapi import FastAPI
from cli.main import UVICORN_OPTIONS

app = FastAPI()

@app.get("/health")
async def health():
    return {"status": "ok"}

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", **UVICORN_OPTIONS)
"""

WARM_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '%s'
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used by `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(pid: int, url: str, seconds: int, connections: int, script: Path | None) -> Any:
    """A wrk run, with the server's CPU time per answered request (in microseconds): on a busy
    machine req/s follows what the other jobs leave, CPU per request much less so."""
    before = cpu_seconds(pid)
    run = wrk(url, seconds, connections, script)
    run["cpu_us"] = (cpu_seconds(pid) - before) / max(1.0, run["rps"] * seconds) * 1e6
    return run


@contextmanager
def bare_app(folder: Path) -> Iterator[tuple[str, int]]:
    """The bare FastAPI app in its own uvicorn process; its base URL once `/health` answers."""
    port = free_port()
    log = (folder / "bare.log").open("w")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [PYTHON, "-c", BARE, str(port)], cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            if process.poll() is not None:
                raise RuntimeError(f"the bare app exited: see {log.name}")
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(20)
        log.close()


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median req/s (the lower middle one for an even count)."""
    return sorted(runs, key=lambda r: r["rps"])[(len(runs) - 1) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--log-level", default="INFO", help="the project's LOG_LEVEL")
    parser.add_argument("--synthetic", action="store_true", help="synthetic bars, no shared data")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    runs: dict[str, list[dict[str, Any]]] = {}
    with scratch_postgres() as url, tempfile.TemporaryDirectory() as tmp:
        folder = price_folder(Path(tmp), args.synthetic)
        env = {
            **UNLIMITED,
            "DATABASE_URL": url,
            "MARKET_PROVIDER": "none",
            "CRYPTO_DATA_DIR": str(folder),
            "LOG_LEVEL": args.log_level,
        }
        with (
            api_process(env, folder, ready_path="/historical-data/BTC-USD?start=2024-01-01") as api,
            bare_app(folder) as (bare, bare_pid),
        ):
            api.settle()  # start-up work in the background (corpus, models) done first
            base = api.base
            body = json.dumps({"symbol": "BTC-USD", "as_of": "2024-06-30"})
            headers = {"Content-Type": "application/json"}
            assert httpx.post(f"{base}/technical", content=body, headers=headers).status_code == 200
            hist = f"{base}/historical-data/BTC-USD?start=2024-03-01&end=2024-03-30"
            assert httpx.get(hist).status_code == 200
            (folder / "warm.lua").write_text(WARM_SCRIPT % body)
            targets = {
                "bare FastAPI GET /health": (bare_pid, f"{bare}/health", None),
                "GET /health": (api.pid, f"{base}/health", None),
                "GET /historical-data (cache hit)": (api.pid, hist, None),
                "POST /technical (warm)": (api.pid, f"{base}/technical", folder / "warm.lua"),
            }
            for _ in range(args.rounds):
                for name, (pid, target, script) in targets.items():
                    run = measured(pid, target, args.seconds, args.connections, script)
                    runs.setdefault(name, []).append(run)
    title = f"The request path, wrk -t1 -c{args.connections} {args.seconds}s, 1 uvicorn worker"
    table = Table(title=f"{title}, median of {args.rounds} round(s)")
    for col in ("run", "req/s", "p50 ms", "p99 ms", "non-2xx", "vs bare", "CPU µs/req"):
        table.add_column(col, justify="left" if col == "run" else "right")
    bare_rps = median_run(runs["bare FastAPI GET /health"])["rps"]
    for name, results in runs.items():
        run = median_run(results)
        table.add_row(
            name,
            f"{run['rps']:,.0f}",
            f"{run['p50']:.2f}",
            f"{run['p99']:.2f}",
            f"{run['errors']:.0f}",
            f"{run['rps'] / bare_rps:.2f}x",
            f"{run['cpu_us']:.0f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
