"""Resident memory of the API process: idle, with every engine warm, and under wrk load.

`crypto-assistant serve` runs in its own process against a scratch embedded Postgres holding
the shared daily prices, the indexed knowledge corpus, a small sentiment embedding head and
(for the later servers) a few LSTM champions trained by the CLI. For each point the table gives
VmRSS (now) and VmHWM (the peak since the last reset, from /proc/<pid>/status), and which heavy
libraries the process has imported (asked through a SIGUSR1 handler installed before the CLI
starts), so that "the API starts without TensorFlow or torch" is measured, not assumed.

Goals: idle < 600 MB, every engine warm < 2 GB.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from common import ROOT, SHARED_PRICES, free_port, scratch_postgres
from rich.console import Console
from rich.table import Table

HEAVY = (
    "tensorflow",
    "keras",
    "torch",
    "transformers",
    "sentence_transformers",
    "sklearn",
    "talib",
)
SENTIMENT_CSV = ROOT.parent / "shared" / "data" / "sentiment" / "twitter_financial_news_train.csv"
IDLE_GOAL_MB, WARM_GOAL_MB = 600, 2048
PYTHON = str(ROOT / ".venv/bin/python")
CLI = str(ROOT / ".venv/bin/crypto-assistant")

# `crypto-assistant serve`, with a SIGUSR1 handler that writes the heavy modules imported so far.
BOOT = f"""
import json, os, signal, sys

def _dump(signum, frame):
    names = {HEAVY!r}
    with open(os.environ["BENCH_MODULES_FILE"], "w") as handle:
        json.dump(sorted(n for n in names if n in sys.modules), handle)

signal.signal(signal.SIGUSR1, _dump)
from api.cli import main
sys.argv = ["crypto-assistant", *sys.argv[1:]]
main()
"""

# wrk: one request after another from a fixed list, counting answers by status code.
STATUS_LUA = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
statuses = {}
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do io.write(string.format("STATUS %d %d\\n", code, n)) end
  end
end
"""

MIXED_LUA = (
    STATUS_LUA
    + """
counter = 0
local json = {["Content-Type"] = "application/json"}
local coins = {"BTC-USD", "ETH-USD", "SOL-USD", "BNB-USD", "XRP-USD", "ADA-USD"}
local questions = {"What is the RSI of BTC?", "should I buy ETH?", "compare btc and sol",
                   "how much did XRP move last week?", "what is macd?", "forecast BTC for 7 days"}
local searches = {"what is the RSI", "bitcoin halving", "how does the forecast work",
                  "volatility and drawdown", "stablecoins", "position sizing"}
request = function()
  counter = counter + 1
  local coin = coins[(counter % #coins) + 1]
  local kind = counter % 7
  if kind == 0 then
    return wrk.format("GET", "/historical-data/" .. coin .. "?start=2025-01-01")
  elseif kind == 1 then
    local as_of = os.date("!%Y-%m-%d", 1577836800 + (counter % 1800) * 86400)
    return wrk.format("POST", "/technical", json, '{"symbol": "BTC-USD", "as_of": "' .. as_of .. '"}')
  elseif kind == 2 then
    return wrk.format("POST", "/chat", json, '{"message": "' .. questions[(counter % #questions) + 1] .. '"}')
  elseif kind == 3 then
    return wrk.format("POST", "/forecast", json, '{"symbol": "' .. coins[(counter % 3) + 1] .. '"}')
  elseif kind == 4 then
    return wrk.format("POST", "/sentiment", json,
      '{"texts": ["Bitcoin ETF approval sparks a rally ' .. counter .. '", "Exchange hacked, funds drained"]}')
  elseif kind == 5 then
    local q = searches[(counter % #searches) + 1] .. " " .. counter
    return wrk.format("GET", "/knowledge/search?k=5&q=" .. q:gsub(" ", "%%20"))
  end
  return wrk.format("POST", "/technical", json, '{"symbol": "' .. coin .. '"}')
end
"""
)


def proc_memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of `pid` in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return {"rss": fields["VmRSS"], "peak": fields["VmHWM"]}


def reset_peak(pid: int) -> None:
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs), so each phase has its own peak."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def loaded_libraries(pid: int) -> list[str]:
    """Native libraries of TensorFlow, torch and TA-Lib mapped into the process (a cross-check)."""
    marks = {
        "libtensorflow": "tensorflow (.so)",
        "libtorch": "torch (.so)",
        "_ta_lib": "talib (.so)",
    }
    maps = Path(f"/proc/{pid}/maps").read_text()
    return sorted(label for mark, label in marks.items() if mark in maps)


def wrk_run(base: str, script: str, seconds: int, connections: int, folder: Path) -> dict[str, Any]:
    """wrk -t1 with a Lua script that counts statuses; req/s, latency percentiles, status counts."""
    path = folder / f"wrk-{time.monotonic_ns()}.lua"
    path.write_text(script)
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(path), base]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> dict[str, Any]:
    """req/s, p50/p99 ms, socket errors and the STATUS lines of the Lua `done` hook."""
    import re

    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def latency(pct: str) -> float:
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * units[m.group(2)] if m else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    statuses = {int(c): int(n) for c, n in re.findall(r"^STATUS (\d+) (\d+)$", out, re.M)}
    return {
        "rps": float(rps.group(1)) if rps else float("nan"),
        "p50": latency("50"),
        "p99": latency("99"),
        "socket_errors": sum(int(x) for x in sock.groups()) if sock else 0,
        "statuses": statuses,
        "total": sum(statuses.values()),
        "non2xx": sum(n for c, n in statuses.items() if not 200 <= c < 300),
    }


class ApiProcess:
    """`crypto-assistant serve` in its own process, with its pid, base URL and module probe."""

    def __init__(self, env: dict[str, str], folder: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.modules_file = folder / f"modules-{self.port}.json"
        self.log = (folder / f"server-{self.port}.log").open("w")
        self.process = subprocess.Popen(
            [PYTHON, "-c", BOOT, "serve", "--port", str(self.port), "--workers", str(workers)],
            cwd=folder,
            env={**os.environ, **env, "BENCH_MODULES_FILE": str(self.modules_file)},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, path: str = "/health", timeout: float = 180) -> float:
        """Seconds until `path` answers 200."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: see {self.log.name}")
            try:
                if httpx.get(self.base + path, timeout=5).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError("the server did not become ready")

    def settle(self, quiet_mb: float = 2.0, quiet_seconds: float = 4.0, limit: float = 120) -> None:
        """Wait until RSS stops moving (background start-up work done)."""
        started = time.monotonic()
        last, since = proc_memory(self.pid)["rss"], time.monotonic()
        while time.monotonic() - started < limit:
            time.sleep(0.5)
            now = proc_memory(self.pid)["rss"]
            if abs(now - last) > quiet_mb:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet_seconds:
                return

    def modules(self) -> list[str]:
        """Heavy modules imported by the server process so far."""
        self.modules_file.unlink(missing_ok=True)
        os.kill(self.pid, signal.SIGUSR1)
        for _ in range(100):
            if self.modules_file.exists() and self.modules_file.read_text().endswith("]"):
                return list(json.loads(self.modules_file.read_text()))
            time.sleep(0.05)
        raise RuntimeError("the server did not answer the module probe")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()


@contextmanager
def api_process(env: dict[str, str], folder: Path, workers: int = 1) -> Iterator[ApiProcess]:
    """Start the API, wait for /health, always stop it."""
    server = ApiProcess(env, folder, workers)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def run_cli(env: dict[str, str], folder: Path, *args: str) -> float:
    """Run a `crypto-assistant` command to completion; its wall time in seconds."""
    started = time.monotonic()
    result = subprocess.run(
        [CLI, *args], cwd=folder, env={**os.environ, **env}, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"crypto-assistant {' '.join(args)} failed:\n{result.stdout[-3000:]}")
    return time.monotonic() - started


def index_corpus(env: dict[str, str], folder: Path) -> float:
    """Index the shipped corpus as start-up does, so later start-ups find it unchanged."""
    code = (
        "from agent.services import Services\nfrom agent.settings import load_settings\n"
        "services = Services.build(load_settings())\nservices.knowledge.ensure_corpus()\n"
        "services.db.close()\n"
    )
    started = time.monotonic()
    subprocess.run(
        [PYTHON, "-c", code], cwd=folder, env={**os.environ, **env}, check=True, capture_output=True
    )
    return time.monotonic() - started


def sentiment_subset(folder: Path, rows: int) -> Path:
    """The first `rows` labelled rows of the shared file (enough for a working head, quickly)."""
    path = folder / "sentiment_subset.csv"
    with SENTIMENT_CSV.open(newline="") as src, path.open("w", newline="") as dst:
        reader, writer = csv.reader(src), csv.writer(dst)
        for index, row in enumerate(reader):
            if index > rows:
                break
            writer.writerow(row)
    return path


class Sampler:
    """Polls RSS in a thread (the peak under load, beside VmHWM)."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        self.pid, self.every, self.max_rss = pid, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.max_rss = max(self.max_rss, proc_memory(self.pid)["rss"])
            time.sleep(self.every)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


COINS = [f"{c}-USD" for c in ("BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "DOGE")]
CHAT_QUESTIONS = (
    "What is the RSI of BTC?",
    "compare btc and eth",
    "forecast BTC for the next 7 days",
    "what is the news sentiment on BTC?",
    "what is a halving?",
)
Step = tuple[str, float, float, float, str]
Row = tuple[str, dict[str, float], int, list[str], list[str]]


def warm_engines(api: ApiProcess, trained: list[str]) -> list[Step]:
    """First use of every engine, in order; (label, ms, RSS before, RSS after, statuses) each."""
    texts = ["Bitcoin ETF approval sparks a rally", "Exchange hacked, funds drained"]
    plan: list[tuple[str, list[tuple[str, str, dict[str, Any] | None]]]] = [
        (
            "historical data, 7 coins",
            [("GET", f"/historical-data/{c}?start=2024-01-01", None) for c in COINS],
        ),
        (
            "technical panel (TA-Lib), 7 coins",
            [("POST", "/technical", {"symbol": c}) for c in COINS],
        ),
        (
            f"LSTM forecasts, {len(trained)} champions",
            [("POST", "/forecast", {"symbol": c, "horizon_days": 7}) for c in trained],
        ),
        ("sentiment on texts (default backend)", [("POST", "/sentiment", {"texts": texts})]),
        (
            "knowledge search (embeddings)",
            [("GET", "/knowledge/search?q=what%20is%20RSI&k=5", None)],
        ),
        (
            f"chat, offline ({len(CHAT_QUESTIONS)} questions)",
            [("POST", "/chat", {"message": q}) for q in CHAT_QUESTIONS],
        ),
    ]
    steps: list[Step] = []
    with httpx.Client(base_url=api.base, timeout=120) as client:
        for label, calls in plan:
            before, started = proc_memory(api.pid)["rss"], time.monotonic()
            codes = [
                client.request(method, path, json=body).status_code for method, path, body in calls
            ]
            after = proc_memory(api.pid)["rss"]
            status = ", ".join(f"{c} x{codes.count(c)}" for c in sorted(set(codes)))
            steps.append((label, (time.monotonic() - started) * 1000, before, after, status))
    return steps


def snapshot(name: str, api: ApiProcess, goal: int, peak: float = 0.0) -> Row:
    """One row of the memory table: memory now, the goal (0: none), modules and libraries."""
    memory = proc_memory(api.pid)
    memory["peak"] = max(memory["peak"], peak)
    return (name, memory, goal, api.modules(), loaded_libraries(api.pid))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--coins", nargs="+", default=["BTC-USD", "ETH-USD", "SOL-USD"])
    parser.add_argument("--epochs", type=int, default=5, help="LSTM epochs (small models)")
    parser.add_argument("--sentiment-rows", type=int, default=1500)
    parser.add_argument("--seconds", type=int, default=20, help="wrk load duration")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    console = Console(width=None if sys.stdout.isatty() else 170)
    rows: list[Row] = []
    steps_table: list[Step] = []
    setup_times: dict[str, float] = {}
    load: dict[str, Any] = {}
    with scratch_postgres() as url, tempfile.TemporaryDirectory(prefix="bench-mem-") as tmp:
        folder = Path(tmp)
        env = {
            "DATABASE_URL": url,
            "DATA_HOME": str(folder / "var"),
            "MARKET_PROVIDER": "none",
            "CRYPTO_DATA_DIR": str(SHARED_PRICES),
            "LOG_LEVEL": "WARNING",
            "FORECAST_EPOCHS": str(args.epochs),
            "FORECAST_EVAL_DAYS": "30",
            "FORECAST_REFIT_EVERY": "30",
            "RATE_LIMIT_DATA_PER_MINUTE": "100000",
            "RATE_LIMIT_CHAT_PER_MINUTE": "100000",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
        for name in ("REDIS_URL", "LLM_MODEL", "TELEGRAM_BOT_TOKEN", "LANGSMITH_TRACING"):
            os.environ.pop(name, None)
        with console.status("importing prices, indexing the corpus, training a sentiment head"):
            setup_times["data import"] = run_cli(env, folder, "data", "import", str(SHARED_PRICES))
            setup_times["corpus index"] = index_corpus(env, folder)
            subset = sentiment_subset(folder, args.sentiment_rows)
            setup_times["sentiment head"] = run_cli(env, folder, "sentiment", "train", str(subset))

        # (a) idle, nothing trained yet: the framework and the lazy engines
        with console.status("server A: idle, no forecast models"), api_process(env, folder) as api:
            api.settle()
            rows.append(snapshot("idle after start-up (no LSTM champions)", api, IDLE_GOAL_MB))

        with console.status(f"training LSTM champions for {', '.join(args.coins)}"):
            setup_times[f"LSTM train ({len(args.coins)} coins)"] = run_cli(
                env, folder, "models", "train", *args.coins
            )

        # (b) with FORECAST_PRELOAD=true start-up loads every champion (and TensorFlow) at once
        preload = {**env, "FORECAST_PRELOAD": "true"}
        spinner = console.status("server B: idle, champions preloaded at start-up")
        with spinner, api_process(preload, folder) as api:
            api.settle()
            rows.append(snapshot("idle, champions preloaded (FORECAST_PRELOAD=true)", api, 0))

        # (c) the default start-up with champions on disk (loaded on first use), then every
        # engine, then load
        spinner = console.status("server C: idle with champions, then every engine, then load")
        with spinner, api_process(env, folder) as api:
            api.settle()
            rows.append(snapshot("idle after start-up (champions on disk)", api, IDLE_GOAL_MB))
            reset_peak(api.pid)
            steps_table = warm_engines(api, args.coins)
            rows.append(snapshot("every engine warm", api, WARM_GOAL_MB))
            # a mixed load over seven kinds of request; peak from VmHWM and a 0.2 s sampler
            reset_peak(api.pid)
            with Sampler(api.pid) as sampler:
                load = wrk_run(api.base, MIXED_LUA, args.seconds, args.connections, folder)
            name = f"under load (wrk -c{args.connections}, {args.seconds} s, mixed routes)"
            rows.append(snapshot(name, api, WARM_GOAL_MB, sampler.max_rss))

    setup = Table(title="Set-up (CLI, before the servers)")
    setup.add_column("step")
    setup.add_column("seconds", justify="right")
    for name, seconds in setup_times.items():
        setup.add_row(name, f"{seconds:.1f}")
    console.print(setup)

    table = Table(title="API process memory (`crypto-assistant serve`, 1 worker)")
    for col in ("point", "RSS MB", "peak MB (VmHWM)", "goal", "met", "heavy modules imported"):
        table.add_column(
            col, justify="left" if col in ("point", "heavy modules imported") else "right"
        )
    for name, mem, goal, modules, _libs in rows:
        met = "" if not goal else "yes" if mem["peak"] < goal else "[red]no[/red]"
        table.add_row(
            name,
            f"{mem['rss']:,.0f}",
            f"{mem['peak']:,.0f}",
            f"< {goal:,} MB" if goal else "",
            met,
            ", ".join(modules) or "none",
        )
    console.print(table)

    steps = Table(title="Warming each engine (first use, in order)")
    for col in ("step", "ms", "RSS before MB", "RSS after MB", "delta MB", "statuses"):
        steps.add_column(col, justify="left" if col in ("step", "statuses") else "right")
    for label, ms, before, after, status in steps_table:
        steps.add_row(
            label,
            f"{ms:,.0f}",
            f"{before:,.0f}",
            f"{after:,.0f}",
            f"{after - before:+,.0f}",
            status,
        )
    console.print(steps)

    libs = Table(title="Native libraries mapped (from /proc/<pid>/maps)")
    libs.add_column("point")
    libs.add_column("libraries")
    for name, _mem, _goal, _modules, mapped in rows:
        libs.add_row(name, ", ".join(mapped) or "none")
    console.print(libs)

    if load:
        codes = ", ".join(f"{c}: {n:,}" for c, n in sorted(load["statuses"].items()))
        console.print(
            f"Load run: {load['rps']:,.1f} req/s, p50 {load['p50']:.1f} ms, p99 {load['p99']:.1f} ms, "
            f"statuses {codes}, socket errors {load['socket_errors']}."
        )


if __name__ == "__main__":
    main()
