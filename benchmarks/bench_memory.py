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
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from common import ROOT, SHARED_PRICES, scratch_postgres
from rich.console import Console
from rich.table import Table
from served_api import (
    STATUS_LUA,
    UNLIMITED,
    ApiProcess,
    Sampler,
    api_process,
    index_corpus,
    loaded_libraries,
    proc_memory,
    reset_peak,
    run_cli,
    wrk_run,
)

SENTIMENT_CSV = ROOT.parent / "shared" / "data" / "sentiment" / "twitter_financial_news_train.csv"
IDLE_GOAL_MB, WARM_GOAL_MB = 600, 2048

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
            **UNLIMITED,
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
