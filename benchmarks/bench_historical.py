"""`GET /historical-data` latency under wrk: cache hit vs cache miss, one uvicorn worker.

The server runs in its own process on 127.0.0.1 with BTC-USD daily bars loaded (the shared file,
or synthetic bars with --synthetic). The hit run repeats one 30-day window; the miss run asks a
new 30-day window on every request (a Lua counter), so each one reads Postgres.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import ROOT, SHARED_PRICES, scratch_postgres
from rich.console import Console
from rich.table import Table

MISS_SCRIPT = """
counter = 0
request = function()
  counter = counter + 1
  local day = 1410912000 + (counter % 3800) * 86400
  local width = 29 + math.floor(counter / 3800)
  local s = os.date("!%Y-%m-%d", day)
  local e = os.date("!%Y-%m-%d", day + width * 86400)
  return wrk.format("GET", "/historical-data/BTC-USD?start=" .. s .. "&end=" .. e)
end
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wrk(url: str, seconds: int, connections: int, script: Path | None) -> dict[str, float]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def latency(pct: str) -> float:
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * units[m.group(2)] if m else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(rps.group(1)) if rps else float("nan"),
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": float(non2xx.group(1)) if non2xx else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--synthetic", action="store_true", help="synthetic bars, no shared data")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    console = Console()
    with scratch_postgres() as url, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.synthetic or not (SHARED_PRICES / "BTC-USD.csv").exists():
            sys.path.insert(0, str(ROOT))
            from tests.factories import synthetic_bars, write_csv

            write_csv(folder, "BTC-USD.csv", synthetic_bars(4000, start="2014-09-17"))
        else:
            shutil.copy(SHARED_PRICES / "BTC-USD.csv", folder / "BTC-USD.csv")
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "MARKET_PROVIDER": "none",
            "CRYPTO_DATA_DIR": str(folder),
            "LOG_LEVEL": "WARNING",
            "DATA_HOME": tmp,
        }
        port = _free_port()
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/crypto-assistant"), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if (
                        httpx.get(f"{base}/historical-data/BTC-USD?start=2024-01-01").status_code
                        == 200
                    ):
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.3)
            script = folder / "miss.lua"
            script.write_text(MISS_SCRIPT)
            hit_url = f"{base}/historical-data/BTC-USD?start=2024-03-01&end=2024-03-30"
            httpx.get(hit_url)
            hit = _wrk(hit_url, args.seconds, args.connections, None)
            miss = _wrk(base, args.seconds, args.connections, script)
        finally:
            server.terminate()
            server.wait(10)
    table = Table(title=f"GET /historical-data (30-day window), wrk -c{args.connections}, 1 worker")
    for col in ("run", "req/s", "p50 ms", "p99 ms", "non-2xx", "vs miss"):
        table.add_column(col, justify="left" if col == "run" else "right")
    table.add_row(
        "cache miss (new window each request)",
        f"{miss['rps']:,.0f}",
        f"{miss['p50']:.2f}",
        f"{miss['p99']:.2f}",
        f"{miss['errors']:.0f}",
        "1.00x",
    )
    table.add_row(
        "cache hit (same window)",
        f"{hit['rps']:,.0f}",
        f"{hit['p50']:.2f}",
        f"{hit['p99']:.2f}",
        f"{hit['errors']:.0f}",
        f"{hit['rps'] / miss['rps']:.2f}x",
    )
    console.print(table)


if __name__ == "__main__":
    main()
