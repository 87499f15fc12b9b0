"""Load under wrk with 1 and 2 uvicorn workers sharing Redis, then the rate limiter under load.

`crypto-assistant serve --workers N` runs in its own process tree on 127.0.0.1 against a scratch
embedded Postgres holding the shared daily prices, with a local `redis-server` (free port,
no persistence) as the shared cache and rate-limit store. Each route is driven by wrk over a
fixed set of distinct requests (7 coins x 4 windows or dates, 6 chat questions on new threads),
so the first pass misses the cache and the rest hit it. Each cached read is two lookups: the
series' generation key (bumped when data is loaded, so a hit) and the data key; the table gives
the raw lookup hit rate (what `/metrics` counts) and the data hit rate. Both are read from Redis
(`keyspace_hits` / `keyspace_misses` of INFO, which count the cache's GETs and not the rate
limiter's INCR/EXPIRE), so it covers every worker; with one worker it is checked against the
app's own `/metrics` counters.

The rate-limit run sets a low per-minute limit on the data routes and drives several API keys
(the limiter tells clients apart by `X-API-Key`, else by IP) with more connections each than
the limit allows, inside one fixed window, and counts 200s and 429s per key: no key may get
more 200s than its limit. The same run without Redis shows what goes wrong with several
workers and in-process counters.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil
from common import SHARED_PRICES, free_port, parse_wrk, scratch_postgres
from rich.console import Console
from rich.table import Table
from served_api import STATUS_LUA, UNLIMITED, ApiProcess, index_corpus, run_cli

COINS = ("BTC-USD", "ETH-USD", "SOL-USD", "BNB-USD", "XRP-USD", "ADA-USD", "DOGE-USD")
_LUA_COINS = "{" + ", ".join(f'"{c}"' for c in COINS) + "}"

ROUTES: dict[str, str] = {
    "GET /historical-data/{symbol}": STATUS_LUA
    + f"""
counter = 0
local coins = {_LUA_COINS}
local starts = {{"2023-01-01", "2023-04-01", "2023-07-01", "2023-10-01"}}
request = function()
  counter = counter + 1
  local coin = coins[(counter % #coins) + 1]
  local start = starts[(math.floor(counter / #coins) % #starts) + 1]
  return wrk.format("GET", "/historical-data/" .. coin .. "?start=" .. start)
end
""",
    "POST /technical": STATUS_LUA
    + f"""
counter = 0
local coins = {_LUA_COINS}
local dates = {{"2025-03-31", "2025-06-30", "2025-09-30", "2025-12-31"}}
local json = {{["Content-Type"] = "application/json"}}
request = function()
  counter = counter + 1
  local coin = coins[(counter % #coins) + 1]
  local as_of = dates[(math.floor(counter / #coins) % #dates) + 1]
  return wrk.format("POST", "/technical", json, '{{"symbol": "' .. coin .. '", "as_of": "' .. as_of .. '"}}')
end
""",
    "POST /chat (offline)": STATUS_LUA
    + """
counter = 0
local questions = {"What is the RSI of BTC?", "how much did SOL move last week?",
                   "should I buy XRP?", "compare btc and eth", "what is the price of ADA?",
                   "is DOGE overbought?"}
local json = {["Content-Type"] = "application/json"}
request = function()
  counter = counter + 1
  local q = questions[(counter % #questions) + 1]
  return wrk.format("POST", "/chat", json, '{"message": "' .. q .. '"}')
end
""",
}

LIMITED_LUA = (
    STATUS_LUA
    + """
wrk.headers["X-API-Key"] = "__KEY__"
"""
)


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A throw-away `redis-server` on a free 127.0.0.1 port (no persistence); yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    try:
        import redis

        client = redis.Redis.from_url(url)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        process.terminate()
        process.wait(10)


def redis_stats(url: str) -> tuple[int, int]:
    """(keyspace_hits, keyspace_misses) of the Redis server."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        info = client.info("stats")
        return int(info["keyspace_hits"]), int(info["keyspace_misses"])
    finally:
        client.close()


def redis_flush(url: str) -> None:
    """Empty the cache and the rate-limit counters, and zero INFO's counters."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushall()
        client.config_resetstat()
    finally:
        client.close()


def app_cache_counters(base: str) -> tuple[float, float]:
    """(hits, misses) from the app's /metrics (one worker's view)."""
    text = httpx.get(base + "/metrics", timeout=10).text

    def value(outcome: str) -> float:
        m = re.search(rf'^cache_operations_total{{outcome="{outcome}"}} ([\d.e+]+)$', text, re.M)
        return float(m.group(1)) if m else 0.0

    return value("hits"), value("misses")


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and all its children (uvicorn's workers), in MB."""
    parent = psutil.Process(pid)
    total = parent.memory_info().rss
    for child in parent.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


@contextmanager
def serving(env: dict[str, str], folder: Path, workers: int) -> Iterator[ApiProcess]:
    """`serve --workers N` until /health answers and every worker has settled."""
    api = ApiProcess(env, folder, workers)
    try:
        api.wait_ready()
        last, quiet = tree_rss_mb(api.pid), 0
        for _ in range(240):  # every worker started: the tree's RSS stops growing
            time.sleep(0.5)
            now = tree_rss_mb(api.pid)
            quiet = quiet + 1 if abs(now - last) < 2 else 0
            last = now
            spawned = len(psutil.Process(api.pid).children()) >= workers if workers > 1 else True
            if quiet >= 6 and spawned:
                break
        yield api
    finally:
        api.stop()


def wrk_script(base: str, script: str, seconds: int, connections: int, folder: Path) -> str:
    """Run wrk (1 thread) with a Lua script; its raw output."""
    path = folder / f"wrk-{time.monotonic_ns()}.lua"
    path.write_text(script)
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(path), base]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def route_runs(
    api: ApiProcess, redis_url: str, workers: int, args: argparse.Namespace, folder: Path
) -> dict[str, dict[str, Any]]:
    """Each route under wrk; throughput, latency, statuses and the cache hit rate of the run."""
    results: dict[str, dict[str, Any]] = {}
    for route, script in ROUTES.items():
        hits0, misses0 = redis_stats(redis_url)
        app0 = app_cache_counters(api.base) if workers == 1 else None
        out = wrk_script(api.base, script, args.seconds, args.connections, folder)
        run = parse_wrk(out)
        hits1, misses1 = redis_stats(redis_url)
        run["hits"], run["misses"] = hits1 - hits0, misses1 - misses0
        if app0 is not None:
            app1 = app_cache_counters(api.base)
            run["app_hits"], run["app_misses"] = app1[0] - app0[0], app1[1] - app0[1]
        run["rss"] = tree_rss_mb(api.pid)
        results[route] = run
    return results


def wait_for_window(seconds: int, window: int = 60) -> None:
    """Sleep until a run of `seconds` fits inside one fixed rate-limit window."""
    into = time.time() % window
    if into < 1 or into + seconds + 3 > window:
        time.sleep(window - into + 1)


def limited_run(
    api: ApiProcess, keys: list[str], seconds: int, connections: int, folder: Path
) -> dict[str, dict[str, Any]]:
    """One wrk per API key, in parallel, all inside one window; statuses per key."""
    url = api.base + "/historical-data/BTC-USD?start=2025-06-01"
    wait_for_window(seconds)
    with ThreadPoolExecutor(len(keys)) as pool:
        outs = list(
            pool.map(
                lambda key: wrk_script(
                    url, LIMITED_LUA.replace("__KEY__", key), seconds, connections, folder
                ),
                keys,
            )
        )
    probe = httpx.get(url, headers={"X-API-Key": keys[0]}, timeout=10)
    results = {key: parse_wrk(out) for key, out in zip(keys, outs, strict=True)}
    results[keys[0]]["probe"] = (probe.status_code, probe.headers.get("retry-after"))
    return results


def print_route_tables(console: Console, by_workers: dict[int, dict[str, dict[str, Any]]]) -> None:
    """Throughput table per route, the 2-worker run against the 1-worker run."""
    table = Table(title="Routes under wrk, Redis cache shared by the workers")
    cols = ("route", "workers", "req/s", "vs 1 worker", "p50 ms", "p99 ms", "requests",
            "non-2xx", "socket err", "cache hits", "misses", "lookup hit rate",
            "data hit rate", "RSS MB (all)")  # fmt: skip
    for col in cols:
        table.add_column(col, justify="left" if col == "route" else "right")
    for route in ROUTES:
        for workers, runs in by_workers.items():
            run, base = runs[route], by_workers[min(by_workers)][route]
            lookups = run["hits"] + run["misses"]
            table.add_row(
                route if workers == min(by_workers) else "",
                str(workers),
                f"{run['rps']:,.0f}",
                f"{run['rps'] / base['rps']:.2f}x",
                f"{run['p50']:.1f}",
                f"{run['p99']:.1f}",
                f"{run['total']:,}",
                f"{run['non2xx']:,}",
                f"{run['socket_errors']:,}",
                f"{run['hits']:,}",
                f"{run['misses']:,}",
                f"{run['hits'] / lookups:.1%}" if lookups else "n/a",
                f"{1 - 2 * run['misses'] / lookups:.2%}" if lookups else "n/a",
                f"{run['rss']:,.0f}",
            )
    console.print(table)
    console.print(
        "Every cached read first reads its series' generation key (always a hit once start-up "
        "has bumped it), then the data key: data hit rate = 1 - 2 x misses / lookups."
    )
    one = by_workers.get(1, {})
    checks = [
        f"{route}: /metrics {run['app_hits']:,.0f} hits / {run['app_misses']:,.0f} misses, "
        f"Redis {run['hits']:,} / {run['misses']:,}"
        for route, run in one.items()
        if "app_hits" in run
    ]
    if checks:
        console.print("Cross-check, 1 worker (app counters vs Redis):\n  " + "\n  ".join(checks))


def print_limit_table(
    console: Console,
    runs: dict[str, dict[str, dict[str, Any]]],
    limit: int,
    args: argparse.Namespace,
) -> None:
    """200s and 429s per API key against the limit, for each configuration."""
    table = Table(
        title=f"Rate limiter under load: data routes limited to {limit}/min per client, "
        f"{len(args.keys)} API keys x wrk -c{args.limit_connections}, {args.limit_seconds} s "
        "inside one window"
    )
    for col in ("configuration", "client (X-API-Key)", "requests", "200", "429", "other",
                "200 <= limit", "req/s"):  # fmt: skip
        table.add_column(
            col, justify="left" if col in ("configuration", "client (X-API-Key)") else "right"
        )
    for config, per_key in runs.items():
        for index, (key, run) in enumerate(per_key.items()):
            ok = run["statuses"].get(200, 0)
            limited = run["statuses"].get(429, 0)
            table.add_row(
                config if index == 0 else "",
                key,
                f"{run['total']:,}",
                f"{ok:,}",
                f"{limited:,}",
                f"{run['total'] - ok - limited:,}",
                "yes" if ok <= limit else "[red]no[/red]",
                f"{run['rps']:,.0f}",
            )
    console.print(table)
    for config, per_key in runs.items():
        first = next(iter(per_key.values()))
        if "probe" in first:
            status, retry = first["probe"]
            console.print(f"{config}: a further request got {status}, Retry-After {retry} s.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per route")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--limit", type=int, default=60, help="data requests per minute per key")
    parser.add_argument("--keys", nargs="+", default=["client-a", "client-b", "client-c"])
    parser.add_argument("--limit-seconds", type=int, default=15)
    parser.add_argument("--limit-connections", type=int, default=4)
    parser.add_argument("--no-contrast", action="store_true", help="skip the run without Redis")
    args = parser.parse_args()
    for tool in ("wrk", "redis-server"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed: apt-get install -y {tool}")
    for name in ("REDIS_URL", "LLM_MODEL", "TELEGRAM_BOT_TOKEN", "LANGSMITH_TRACING"):
        os.environ.pop(name, None)
    console = Console(width=None if sys.stdout.isatty() else 170)
    by_workers: dict[int, dict[str, dict[str, Any]]] = {}
    limits: dict[str, dict[str, dict[str, Any]]] = {}
    with (
        scratch_postgres() as url,
        tempfile.TemporaryDirectory(prefix="bench-load-") as tmp,
        redis_server(Path(tmp)) as redis_url,
    ):
        folder = Path(tmp)
        base_env = {
            "DATABASE_URL": url,
            "DATA_HOME": str(folder / "var"),
            "MARKET_PROVIDER": "none",
            "CRYPTO_DATA_DIR": str(SHARED_PRICES),
            "LOG_LEVEL": "WARNING",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
        with console.status("importing the shared prices, indexing the corpus"):
            run_cli(base_env, folder, "data", "import", str(SHARED_PRICES))
            index_corpus(base_env, folder)
        for workers in args.workers:
            redis_flush(redis_url)
            env = {**base_env, **UNLIMITED, "REDIS_URL": redis_url}
            with (
                console.status(f"{workers} worker(s): routes under wrk"),
                serving(env, folder, workers) as api,
            ):
                by_workers[workers] = route_runs(api, redis_url, workers, args, folder)
        console.print(
            f"2 cores shared with other jobs: latencies are noisy. wrk -t1 -c{args.connections}, "
            f"{args.seconds} s per route. Data imported before start; start-up finds the files "
            "unchanged and bumps each series' cache generation, as in production."
        )
        print_route_tables(console, by_workers)
        limited = {**base_env, "RATE_LIMIT_DATA_PER_MINUTE": str(args.limit)}
        configs = [(f"{max(args.workers)} workers, Redis", {"REDIS_URL": redis_url})]
        if not args.no_contrast:
            configs.append((f"{max(args.workers)} workers, no Redis (in-process counters)", {}))
        for config, extra in configs:
            redis_flush(redis_url)
            with (
                console.status(f"rate limiter: {config}"),
                serving({**limited, **extra}, folder, max(args.workers)) as api,
            ):
                limits[config] = limited_run(
                    api, args.keys, args.limit_seconds, args.limit_connections, folder
                )
    print_limit_table(console, limits, args.limit, args)


if __name__ == "__main__":
    main()
