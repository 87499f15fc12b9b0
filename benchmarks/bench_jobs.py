"""The job queue (procrastinate on Postgres) measured with real `crypto-assistant worker`
processes on a scratch embedded Postgres, each baseline beside its figure in the same run:

1. enqueue-to-start latency of no-op `ping` jobs deferred one at a time, 1 worker vs 2: the
   queue's own stamps (started - deferred, database clock) and wall clock (`defer` returning
   to the job seen started, polled every millisecond);
2. throughput: a batch of `ping` jobs deferred in one transaction, first start to last finish;
3. API latency (uvicorn in this process, on a real socket; the requests come from a separate
   client process, one every --interval s) while idle, while a worker trains BTC-USD, and while
   the same training runs in a thread of the API process (how training ran before the queue).
   Requests run from the moment the training reports its first stage until it ends (TensorFlow's
   import included in both: each process trains for the first time).

Every schedule is off in the workers (SCHEDULE_*=off, WATCHLIST=none, MARKET_PROVIDER=none).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from common import ROOT, SHARED_PRICES, percentile, price_folder, scratch_postgres
from rich.console import Console
from rich.table import Table

from agent.core import Services
from agent.operations_settings import SCHEDULE_DEFAULTS
from agent.services.training import TrainProgress
from agent.settings import Settings
from api.main import create_app
from tests.servers import serve_app

PYTHON = str(ROOT / ".venv/bin/python")
CLI = str(ROOT / ".venv/bin/crypto-assistant")
# one GET every `interval` s between a "start" and a "stop" line on stdin; prints the latencies
CLIENT = """
import json, sys, threading, time
import httpx
url, interval = sys.argv[1], float(sys.argv[2])
start, stop = threading.Event(), threading.Event()
def read():
    sys.stdin.readline(); start.set(); sys.stdin.readline(); stop.set()
threading.Thread(target=read, daemon=True).start()
latencies, errors = [], 0
with httpx.Client(timeout=60) as client:
    client.get(url).raise_for_status()
    print("ready", flush=True)
    start.wait()
    while not stop.is_set():
        began = time.perf_counter()
        ok = client.get(url).status_code == 200
        took = time.perf_counter() - began
        if ok:
            latencies.append(took)
        else:
            errors += 1
        stop.wait(max(0.0, interval - took))
print(json.dumps({"latencies": latencies, "errors": errors}), flush=True)
"""
Workers = list[tuple[subprocess.Popen[bytes], Path]]


def until(
    check: Callable[[], Any],
    limit: float,
    what: str,
    workers: Workers | None = None,
    every: float = 0.05,
) -> Any:
    """`check()` once it is truthy; a clear error when a worker died or `limit` s passed."""
    deadline = time.monotonic() + limit
    while not (value := check()):
        for proc, log in workers or []:
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"a worker exited ({proc.returncode}) before {what}:\n{tail}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {limit:g} s")
        time.sleep(every)
    return value


@contextmanager
def workers(services: Services, env: dict[str, str], folder: Path, n: int) -> Iterator[Workers]:
    """`n` worker processes, ready (every lane registered, pings answered); stopped at the end
    (SIGTERM, then SIGKILL after 30 s)."""
    known = {w["id"] for w in services.jobs.store.workers()}
    procs: Workers = []
    try:
        for i in range(n):
            log = folder / f"worker-{n}-{i}.log"
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [CLI, "worker"], env=env, cwd=folder, stdout=out, stderr=subprocess.STDOUT
                )
            procs.append((proc, log))
        fresh = lambda: len({w["id"] for w in services.jobs.store.workers()} - known) >= 2 * n  # noqa: E731
        until(fresh, 120, f"{n} worker(s) registering", procs)
        for _ in range(5):  # warm: connections open, first jobs run
            job = services.jobs.defer("ping")
            until(lambda j=job: services.jobs.get(j.id).finished_at, 30, "a warm-up ping", procs)
        yield procs
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, _ in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def ping_latency(
    services: Services, count: int, pause: float, procs: Workers
) -> dict[str, list[float]]:
    """Seconds from deferral to start of `count` pings, one at a time `pause` s apart."""
    queue, wall = [], []
    for _ in range(count):
        job = services.jobs.defer("ping")
        returned = time.perf_counter()
        until(lambda j=job: services.jobs.get(j.id).started_at, 30, "a ping starting", procs, 0.001)
        wall.append(time.perf_counter() - returned)
        done = until(
            lambda j=job: (r := services.jobs.get(j.id)).finished_at and r, 30, "a ping", procs
        )
        queue.append(done.started_at - done.created_at)
        time.sleep(pause)
    return {"queue": queue, "wall": wall}


def throughput(services: Services, app: Any, count: int, procs: Workers) -> dict[str, float]:
    """`count` pings deferred in one transaction; seconds from first start to last finish."""
    ids = app.configure_task(name="ping", queue="default").batch_defer(*({} for _ in range(count)))

    def finished() -> bool:
        with services.db.connection() as conn:
            row = conn.execute(
                "SELECT count(*) FROM procrastinate_jobs WHERE id = ANY(%s)"
                " AND status IN ('succeeded', 'failed')",
                (ids,),
            ).fetchone()
        return row is not None and row[0] == count

    until(finished, 600, f"{count} pings finishing", procs, 0.1)
    with services.db.connection() as conn:
        span, total, failed = conn.execute(
            """SELECT extract(epoch FROM max(at) FILTER (WHERE type IN ('succeeded', 'failed'))
                          - min(at) FILTER (WHERE type = 'started')),
                      extract(epoch FROM max(at) - min(at)),
                      count(*) FILTER (WHERE type = 'failed')
                 FROM procrastinate_events WHERE job_id = ANY(%s)""",
            (ids,),
        ).fetchone()  # type: ignore[misc]
    if failed:
        raise RuntimeError(f"{failed} of {count} pings failed")
    return {"span": float(span), "total": float(total), "rate": count / float(span)}


def requests_during(
    url: str, interval: float, begin: Callable[[], Any], wait: Callable[[], Any]
) -> dict[str, Any]:
    """Latencies of GETs to `url` from a client process, from `begin()` returning to `wait()`
    returning; with how long that was."""
    client = subprocess.Popen(
        [PYTHON, "-c", CLIENT, url, str(interval)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert client.stdin is not None and client.stdout is not None
    try:
        if client.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the client process could not GET {url}")
        begin()
        client.stdin.write("start\n")
        client.stdin.flush()
        began = time.monotonic()
        wait()
        seconds = time.monotonic() - began
        out, _ = client.communicate("stop\n", timeout=120)
        return json.loads(out) | {"seconds": seconds}
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()


def train_in_worker(
    services: Services, procs: Workers, url: str, interval: float
) -> dict[str, Any]:
    holder: dict[str, Any] = {}

    def begin() -> None:
        job = holder["job"] = services.jobs.train("BTC-USD", "benchmark")
        running = lambda: (r := services.jobs.get(job.id)).status == "running" and r.progress  # noqa: E731
        until(running, 300, "the worker's training starting", procs, 0.1)

    def wait() -> None:
        finished = lambda: (r := services.jobs.get(holder["job"].id)).finished_at and r  # noqa: E731
        record = until(finished, 900, "the worker's training finishing", procs, 0.1)
        if record.status != "succeeded":
            raise RuntimeError(f"the worker's training {record.status}: {record.error}")

    return requests_during(url, interval, begin, wait)


def train_in_process(services: Services, url: str, interval: float) -> dict[str, Any]:
    started, errors = threading.Event(), []

    def train() -> None:
        try:
            services.training.train("BTC-USD", TrainProgress(on_stage=lambda _: started.set()))
        except Exception as exc:
            errors.append(exc)
            started.set()

    thread = threading.Thread(target=train, daemon=True)

    def begin() -> None:
        thread.start()
        if not started.wait(300):
            raise TimeoutError("the in-process training did not start within 300 s")

    def wait() -> None:
        thread.join(900)
        if thread.is_alive() or errors:
            raise RuntimeError(f"the in-process training failed or hung: {errors}")

    return requests_during(url, interval, begin, wait)


def run(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"latency": {}, "throughput": {}, "api": {}}
    with scratch_postgres() as dsn, tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp:
        folder = Path(tmp)
        (folder / "prices").mkdir()
        prices = price_folder(folder / "prices", args.synthetic)
        common = {  # the same data home, training and schedule for the API and the workers
            "DATA_HOME": str(folder / "var"),
            "MARKET_PROVIDER": "none",
            "LOAD_DATA_ON_START": "false",
            "WATCHLIST": "none",
            "FORECAST_EPOCHS": str(args.epochs),
            "FORECAST_EVAL_DAYS": "60",
        } | {name.upper(): "off" for name in SCHEDULE_DEFAULTS}
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE", "DATA_HOME"))}
        env |= common | {"DATABASE_URL": dsn, "LOG_FORMAT": "text"}
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=dsn,
            data_home=folder / "var",
            market_provider="none",
            load_data_on_start=False,
            forecast_epochs=args.epochs,
            forecast_eval_days=60,
            rate_limit_data_per_minute=100_000,
            **{name: "off" for name in SCHEDULE_DEFAULTS},
        )
        services = Services.build(settings)
        import procrastinate

        connector = procrastinate.SyncPsycopgConnector()
        connector.open(pool=services.db.pool)
        batch_app = procrastinate.App(connector=connector)
        try:
            out["bars"] = services.market.import_paths([prices])[0].rows
            app = create_app(settings, services, load_data=False)
            with serve_app(app) as base:
                url = f"{base}/historical-data/BTC-USD?start=2024-01-01&end=2024-12-31"
                for n in (1, 2):
                    with workers(services, env, folder, n) as procs:
                        out["latency"][n] = ping_latency(services, args.pings, args.pause, procs)
                        out["throughput"][n] = throughput(services, batch_app, args.batch, procs)
                        if n == 1:  # the API figures, with this idle worker running throughout
                            sleep = lambda: time.sleep(args.idle_seconds)  # noqa: E731
                            api = out["api"]
                            api["idle"] = requests_during(url, args.interval, lambda: None, sleep)
                            api["training in a worker"] = train_in_worker(
                                services, procs, url, args.interval
                            )
                            api["training in the API process"] = train_in_process(
                                services, url, args.interval
                            )
        finally:
            connector.close()
            services.db.close()
    return out


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.1f}"


def report(args: argparse.Namespace, out: dict[str, Any]) -> None:
    console = Console()
    table = Table(
        title=f"Enqueue-to-start latency: {args.pings} `ping` jobs, one every ~{args.pause:g} s"
    )
    for col in (
        "workers",
        "queue p50 ms",
        "queue p95 ms",
        "wall p50 ms",
        "wall p95 ms",
        "wall p95 vs 1",
    ):
        table.add_column(col, justify="right")
    base = percentile(out["latency"][1]["wall"], 95)
    for n, lat in out["latency"].items():
        q, w = lat["queue"], lat["wall"]
        p95 = percentile(w, 95)
        table.add_row(str(n), ms(q, 50), ms(q, 95), ms(w, 50), ms(w, 95), f"{p95 / base:.2f}x")
    console.print(table)
    console.print(
        "queue = started - deferred (job events, database clock); wall = `defer` returned -> seen started (1 ms polling)"
    )

    table = Table(title=f"Throughput: {args.batch} `ping` jobs deferred in one transaction")
    for col in (
        "workers",
        "first start -> last finish s",
        "jobs/s",
        "deferred -> last finish s",
        "vs 1",
    ):
        table.add_column(col, justify="right")
    base = out["throughput"][1]["rate"]
    for n, t in out["throughput"].items():
        rate = t["rate"]
        table.add_row(
            str(n), f"{t['span']:.2f}", f"{rate:.0f}", f"{t['total']:.2f}", f"{rate / base:.2f}x"
        )
    console.print(table)

    title = f"GET /historical-data/BTC-USD (1 year, cache hit), one request every {args.interval * 1000:g} ms"
    table = Table(title=f"{title} from a client process; baseline: idle")
    for col in (
        "while",
        "requests",
        "window s",
        "p50 ms",
        "p95 ms",
        "max ms",
        "p95 / idle",
        "non-200",
    ):
        table.add_column(col, justify="left" if col == "while" else "right")
    base = percentile(out["api"]["idle"]["latencies"], 95)
    for name, r in out["api"].items():
        lat = r["latencies"]
        table.add_row(
            name,
            str(len(lat)),
            f"{r['seconds']:.1f}",
            ms(lat, 50),
            ms(lat, 95),
            ms(lat, 100),
            f"{percentile(lat, 95) / base:.2f}x",
            str(r["errors"]),
        )
    console.print(table)
    source = (
        "synthetic" if args.synthetic or not (SHARED_PRICES / "BTC-USD.csv").exists() else "shared"
    )
    console.print(
        f"idle: {args.idle_seconds:g} s; training: requests from its first stage to its end. "
        f"Training: {out['bars']} {source} daily bars, {args.epochs} epochs, 60-day walk-forward."
    )
    cores = len(os.sched_getaffinity(0))
    console.print(
        f"machine: {cores} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pings", type=int, default=100, help="pings deferred one at a time")
    parser.add_argument("--pause", type=float, default=0.1, help="seconds between them")
    parser.add_argument("--batch", type=int, default=500, help="pings in the throughput batch")
    parser.add_argument("--idle-seconds", type=float, default=15.0)
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between requests")
    parser.add_argument("--epochs", type=int, default=5, help="FORECAST_EPOCHS of the trainings")
    parser.add_argument("--synthetic", action="store_true", help="synthetic bars, no shared data")
    parser.add_argument("--quick", action="store_true", help="30 pings, 200 in the batch, 2 epochs")
    args = parser.parse_args()
    if args.quick:
        args.pings, args.batch, args.idle_seconds, args.epochs = 30, 200, 5.0, 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # finally blocks stop the workers
    report(args, run(args))


if __name__ == "__main__":
    main()
