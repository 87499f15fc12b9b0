"""Benchmark: every rule's backtest on ten years of daily bars, vectorised against a loop of
the engine bar by bar, in the same run.

The vectorised path (`tools.backtest`) computes each rule's action at every bar in one pass,
then the event study (1, 7, 30 days) and the long/flat and long/short strategies of every rule
and the stance. The loop asks `TechnicalEngine.analyze` for a report at every close, as a naive
backtest would, then runs the same statistics. Both give the same actions (checked here too).
Goal: the vectorised path under 1 s for all rules of one coin.

    .venv/bin/python benchmarks/bench_backtest.py [--csv PATH] [--years 10] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.bench_technical_panel import load_bars  # noqa: E402
from tools.backtest import HORIZONS, RULE_NAMES, rule_actions  # noqa: E402
from tools.backtest.engine import study  # noqa: E402
from tools.backtest.reference import actions_at  # noqa: E402
from tools.backtest.strategy import backtest_strategy  # noqa: E402
from tools.indicators import DEFAULT_PARAMS, TechnicalEngine  # noqa: E402
from tools.indicators.bars import prepare_bars  # noqa: E402

DEFAULT_CSV = REPO.parent / "shared" / "data" / "prices" / "BTC-USD.csv"


def synthetic(years: int) -> pd.DataFrame:
    """A seeded random walk of `years` daily bars, when the shared data is absent."""
    n = years * 365
    rng = np.random.default_rng(7)
    close = 100 * np.exp(np.cumsum(rng.normal(0.0005, 0.035, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    index = pd.date_range("2016-01-01", periods=n, freq="D", tz="UTC")
    return pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * 1.01,
                         "low": np.minimum(open_, close) * 0.99, "close": close,
                         "volume": rng.uniform(1e6, 2e6, n)}, index=index)  # fmt: skip


def statistics_of(actions: dict[str, np.ndarray], bars: pd.DataFrame, first: int) -> None:
    """The event study and both strategies of every rule (shared by both paths)."""
    data = prepare_bars(bars)
    period = np.zeros(data.n, dtype=bool)
    period[first:] = True
    for name in RULE_NAMES:
        study(actions[name], data.open, name, period, HORIZONS)
        backtest_strategy(actions[name], data.open, data.close, data.index, first, data.n - 1)


def vectorised(bars: pd.DataFrame, first: int) -> dict[str, np.ndarray]:
    actions = rule_actions(prepare_bars(bars), DEFAULT_PARAMS).actions
    statistics_of(actions, bars, first)
    return actions


def loop(bars: pd.DataFrame, first: int) -> dict[str, np.ndarray]:
    actions = actions_at(bars, range(len(bars)))
    statistics_of(actions, bars, first)
    return actions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    source = args.csv.name if args.csv.exists() else "synthetic random walk"
    bars = load_bars(args.csv, args.years) if args.csv.exists() else synthetic(args.years)
    first = TechnicalEngine.required_history()
    vectorised(bars, first)  # warm-up: imports, TA-Lib
    fast_times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        fast = vectorised(bars, first)
        fast_times.append(time.perf_counter() - start)
    start = time.perf_counter()
    slow = loop(bars, first)
    slow_time = time.perf_counter() - start
    same = all(np.array_equal(fast[name], slow[name], equal_nan=True) for name in RULE_NAMES)
    fast_time = statistics.median(fast_times)
    print(f"# bench_backtest: {len(bars)} daily bars of {source}, {len(RULE_NAMES)} rules "
          f"(incl. the stance), horizons {HORIZONS}, both strategies each")  # fmt: skip
    print("| path | time | per rule | vs loop |")
    print("|---|---|---|---|")
    per = len(RULE_NAMES)
    print(f"| vectorised (median of {args.runs}) | {fast_time:.3f} s | "
          f"{fast_time / per * 1000:.1f} ms | {slow_time / fast_time:.0f}x faster |")  # fmt: skip
    print(f"| engine bar by bar (1 run) | {slow_time:.1f} s | {slow_time / per:.2f} s | 1x |")
    print(f"actions identical on every bar: {same}")
    print(f"goal < 1 s for all rules of one coin: {'met' if fast_time < 1.0 else 'MISSED'}")


if __name__ == "__main__":
    main()
