"""The job queue (procrastinate on Postgres) with real `crypto-assistant worker` processes on a
scratch embedded Postgres, each figure beside its baseline measured in the same run:

1. enqueue-to-start latency of no-op `ping` jobs deferred one at a time, 1 worker vs 2: the
   queue's own stamps (started - deferred, database clock) and wall clock (`defer` returning to
   the job seen started, polled every millisecond);
2. throughput: a batch of `ping` jobs deferred in one transaction, first start to last finish;
3. API latency (uvicorn in this process, on a real socket; requests from a separate client
   process, one every --interval s) while idle, while a worker trains BTC-USD, and while the same
   training runs in a thread of the API process (how training ran before the queue). Requests run
   from the training's first stage to its end (each process trains for the first time, so
   TensorFlow's import is inside both windows).

The workers run no schedule (SCHEDULE_*=off), no provider, and a watchlist without data.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # here and in the workers: less noise
PYTHON, CLI = str(ROOT / ".venv/bin/python"), str(ROOT / ".venv/bin/crypto-assistant")
# no first-run training in the workers: the trainings measured are the ones started here
WATCHLIST = "none"
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
        errors += not ok
        stop.wait(max(0.0, interval - took))
print(json.dumps({"latencies": latencies, "errors": errors}), flush=True)
"""
Workers = list[tuple[subprocess.Popen[bytes], Path]]


def until(check: Callable[[], Any], limit: float, what: str, procs: Workers, every: float) -> Any:
    """`check()` once truthy; a clear error (with its log) when a worker died, or after `limit`."""
    deadline = time.monotonic() + limit
    while not (value := check()):
        for proc, log in procs:
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"a worker exited ({proc.returncode}) before {what}:\n{tail}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {limit:g} s")
        time.sleep(every)
    return value


def seen(services: Services, job_id: str, field: str) -> Callable[[], Any]:
    """A check for `until`: the job's record once its `field` is set (started_at, progress...)."""

    def check() -> Any:
        record = services.jobs.get(job_id)
        return record if getattr(record, field) else None

    return check


@contextmanager
def workers(services: Services, env: dict[str, str], folder: Path, n: int) -> Iterator[Workers]:
    """`n` worker processes, ready (both lanes of each registered, warm-up pings answered);
    stopped at the end (SIGTERM, SIGKILL after 30 s)."""
    known = {w["id"] for w in services.jobs.store.workers()}
    procs: Workers = []
    try:
        for i in range(n):
            log = folder / f"worker-{n}-{i}.log"
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [CLI, "worker"], env=env, cwd=folder, stdout=out, stderr=out
                )
                procs.append((proc, log))
        fresh = lambda: len({w["id"] for w in services.jobs.store.workers()} - known) >= 2 * n  # noqa: E731
        until(fresh, 180, f"{n} worker(s) registering", procs, 0.1)
        for _ in range(5):  # connections opened, first jobs run
            job = services.jobs.defer("ping").id
            until(seen(services, job, "finished_at"), 30, "a warm-up ping", procs, 0.01)
        stray = [j for j in services.jobs.list(kind="train_model") if j.finished_at is None]
        if stray:
            raise RuntimeError(f"a worker is training on its own, skewing the figures: {stray}")
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


def ping_latency(services: Services, count: int, pause: float, procs: Workers) -> dict[str, Any]:
    """Seconds from deferral to start of `count` pings, one at a time, `pause` s apart."""
    queue, wall = [], []
    for _ in range(count):
        job = services.jobs.defer("ping").id
        returned = time.perf_counter()
        until(seen(services, job, "started_at"), 30, "a ping starting", procs, 0.001)
        wall.append(time.perf_counter() - returned)
        record = until(seen(services, job, "finished_at"), 30, "a ping finishing", procs, 0.01)
        queue.append(record.started_at - record.created_at)
        time.sleep(pause)
    return {"queue": queue, "wall": wall}


def throughput(services: Services, app: Any, count: int, procs: Workers) -> dict[str, float]:
    """`count` pings deferred in one transaction; from the first start to the last finish.
    They are deleted afterwards: every round starts on the same queue (finished jobs left in
    procrastinate_jobs slow the fetching down, ~25% after a few thousand)."""
    ids = app.configure_task(name="ping", queue="default").batch_defer(*({} for _ in range(count)))

    def query(sql: str) -> Any:
        with services.db.connection() as conn:
            return conn.execute(sql, (ids,)).fetchone()

    done = "SELECT count(*) FROM procrastinate_jobs WHERE id = ANY(%s) AND status = 'succeeded'"
    until(lambda: query(done)[0] == count, 600, f"{count} pings succeeding", procs, 0.05)
    span, total = query(
        """SELECT extract(epoch FROM max(at) FILTER (WHERE type = 'succeeded')
                      - min(at) FILTER (WHERE type = 'started')),
                  extract(epoch FROM max(at) - min(at))
             FROM procrastinate_events WHERE job_id = ANY(%s)"""
    )
    with services.db.connection() as conn:
        conn.execute("DELETE FROM job_outcomes WHERE job_id = ANY(%s)", (ids,))
        conn.execute("DELETE FROM procrastinate_jobs WHERE id = ANY(%s)", (ids,))  # and events
    return {"span": float(span), "total": float(total), "rate": count / float(span)}


def requests_during(
    url: str, interval: float, begin: Callable[[], Any], wait: Callable[[], Any]
) -> dict[str, Any]:
    """GETs of `url` from a client process, from `begin()` returning to `wait()` returning."""
    cmd = [PYTHON, "-c", CLIENT, url, str(interval)]
    client = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
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


def in_worker(services: Services, procs: Workers) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(start, wait) of a BTC-USD training queued for the worker."""
    job: dict[str, str] = {}

    def start() -> None:  # the worker writes progress once the training runs
        job["id"] = services.jobs.train("BTC-USD", "benchmark").id
        until(seen(services, job["id"], "progress"), 300, "the worker's training", procs, 0.05)

    def wait() -> None:
        finished = seen(services, job["id"], "finished_at")
        record = until(finished, 900, "the worker's training finishing", procs, 0.05)
        if record.status != "succeeded":
            raise RuntimeError(f"the worker's training {record.status}: {record.error}")

    return start, wait


def in_process(services: Services) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(start, wait) of the same training in a thread of this (the API's) process."""
    started, pool = threading.Event(), ThreadPoolExecutor(1, "training")
    progress = TrainProgress(on_stage=lambda _: started.set())
    future: list[Future[Any]] = []

    def start() -> None:
        future.append(pool.submit(services.training.train, "BTC-USD", progress))
        until(lambda: started.is_set() or future[0].done(), 300, "the training", [], 0.01)

    def wait() -> None:
        future[0].result(timeout=900)  # its error, if it failed
        pool.shutdown()

    return start, wait


def run(args: argparse.Namespace) -> dict[str, Any]:
    import procrastinate

    logging.getLogger("procrastinate.blueprints").setLevel(logging.ERROR)  # "App in __main__"

    out: dict[str, Any] = {"latency": {}, "throughput": {}, "api": {}}
    with scratch_postgres() as dsn, tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp:
        folder = Path(tmp)
        (folder / "prices").mkdir()
        shared = {  # the same data home, training and schedule for this process and the workers
            "DATA_HOME": str(folder / "var"),
            "MARKET_PROVIDER": "none",
            "LOAD_DATA_ON_START": "false",
            "WATCHLIST": WATCHLIST,
            "FORECAST_EPOCHS": str(args.epochs),
            "FORECAST_EVAL_DAYS": "60",
            "RATE_LIMIT_DATA_PER_MINUTE": "100000",
        } | {name.upper(): "off" for name in SCHEDULE_DEFAULTS}
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE", "DATA_HOME"))}
        env |= shared | {"DATABASE_URL": dsn, "LOG_FORMAT": "text"}
        options: dict[str, Any] = {k.lower(): v for k, v in shared.items()} | {"database_url": dsn}
        settings = Settings(_env_file=None, **options)  # type: ignore[call-arg]
        services = Services.build(settings)
        connector = procrastinate.SyncPsycopgConnector()  # for batch deferrals, on our pool
        connector.open(pool=services.db.pool)
        batch = procrastinate.App(connector=connector)
        try:
            prices = price_folder(folder / "prices", args.synthetic)
            out["bars"] = services.market.import_paths([prices])[0].rows
            with serve_app(create_app(settings, services, load_data=False)) as base:
                url = f"{base}/historical-data/BTC-USD?start=2024-01-01&end=2024-12-31"
                for n in (1, 2):
                    with workers(services, env, folder, n) as procs:
                        out["latency"][n] = ping_latency(services, args.pings, args.pause, procs)
                        rounds = range(args.rounds)
                        runs = [throughput(services, batch, args.batch, procs) for _ in rounds]
                        out["throughput"][n] = sorted(runs, key=lambda t: t["rate"])
                        if n == 1:  # the API's figures, with this idle worker running throughout
                            idle = (lambda: None, lambda: time.sleep(args.idle_seconds))
                            for name, (start, wait) in {
                                "idle": idle,
                                "training in a worker": in_worker(services, procs),
                                "training in the API process": in_process(services),
                            }.items():
                                out["api"][name] = requests_during(url, args.interval, start, wait)
        finally:
            connector.close()
            services.db.close()
    return out


def table(title: str, columns: str) -> Table:
    out = Table(title=title)
    for i, col in enumerate(columns.split("|")):
        out.add_column(col, justify="left" if i == 0 else "right")
    return out


def report(args: argparse.Namespace, out: dict[str, Any]) -> None:
    console = Console(width=120)
    ms = lambda values, q: f"{percentile(values, q) * 1000:.1f}"  # noqa: E731
    versus = lambda value, base: f"{value / base:.2f}x"  # noqa: E731
    title = f"Enqueue-to-start latency: {args.pings} `ping` jobs, one every ~{args.pause:g} s"
    shown = table(title, "workers|queue p50 ms|queue p95 ms|wall p50 ms|wall p95 ms|wall p95 vs 1")
    base = percentile(out["latency"][1]["wall"], 95)
    for n, q in out["latency"].items():
        cells = [ms(q[key], p) for key in ("queue", "wall") for p in (50, 95)]
        shown.add_row(str(n), *cells, versus(percentile(q["wall"], 95), base))
    console.print(shown)
    console.print(
        "queue = started - deferred (the job's events, database clock); "
        "wall = `defer` returned -> job seen started (polled every 1 ms)"
    )
    title = f"Throughput: {args.batch} `ping` jobs deferred in one transaction, on an emptied "
    title += f"queue; the median of {args.rounds} rounds"
    columns = "workers|first start -> last finish s|deferred -> last finish s|jobs/s"
    shown = table(title, columns + "|jobs/s min-max|vs 1")
    median = {n: runs[len(runs) // 2] for n, runs in out["throughput"].items()}
    for n, t in median.items():
        runs = out["throughput"][n]
        cells = [f"{t['span']:.2f}", f"{t['total']:.2f}", f"{t['rate']:.0f}"]
        spread = f"{runs[0]['rate']:.0f}-{runs[-1]['rate']:.0f}"
        shown.add_row(str(n), *cells, spread, versus(t["rate"], median[1]["rate"]))
    console.print(shown)
    title = (
        f"GET /historical-data/BTC-USD (1 year, cache hit), one request every "
        f"{args.interval * 1000:g} ms from a client process; baseline: idle"
    )
    shown = table(title, "while|requests|window s|p50 ms|p95 ms|max ms|p95 / idle|non-200")
    base = percentile(out["api"]["idle"]["latencies"], 95)
    for name, r in out["api"].items():
        lat = r["latencies"]
        cells = [str(len(lat)), f"{r['seconds']:.1f}", *(ms(lat, q) for q in (50, 95, 100))]
        shown.add_row(name, *cells, versus(percentile(lat, 95), base), str(r["errors"]))
    console.print(shown)
    shared = not args.synthetic and (SHARED_PRICES / "BTC-USD.csv").exists()
    console.print(
        f"window: idle {args.idle_seconds:g} s; a training from its first stage to its end "
        f"(= its duration). Training: {out['bars']} {'shared' if shared else 'synthetic'} "
        f"daily bars, {args.epochs} epochs, 60-day walk-forward; 1 idle worker running throughout."
    )
    cpu = platform.processor() or platform.machine()
    cores = len(os.sched_getaffinity(0))
    console.print(f"machine: {cores} cores ({cpu}), Python {platform.python_version()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pings", type=int, default=100, help="pings deferred one at a time")
    parser.add_argument("--pause", type=float, default=0.1, help="seconds between them")
    parser.add_argument("--batch", type=int, default=500, help="pings in the throughput batch")
    parser.add_argument("--rounds", type=int, default=5, help="throughput batches per worker count")
    parser.add_argument("--idle-seconds", type=float, default=15.0)
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between requests")
    parser.add_argument("--epochs", type=int, default=5, help="FORECAST_EPOCHS of the trainings")
    parser.add_argument("--synthetic", action="store_true", help="synthetic bars, no shared data")
    parser.add_argument("--quick", action="store_true", help="30 pings, 3 x 200, 2 epochs")
    args = parser.parse_args()
    if args.quick:
        args.pings, args.batch, args.rounds, args.idle_seconds, args.epochs = 30, 200, 3, 5.0, 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # finally blocks stop the workers
    report(args, run(args))


if __name__ == "__main__":
    main()
