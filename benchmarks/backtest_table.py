"""The README's backtest table: BTC, ETH and SOL daily bars over 2018-2025, the five most
frequent rules and the stance (event study at 7 days), and the stance strategy against
buy-and-hold with 10 bp fees.

    .venv/bin/python benchmarks/backtest_table.py [--folder ../shared/data/prices]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.bench_technical_panel import load_bars  # noqa: E402
from tools.backtest import STANCE, backtest, event_table  # noqa: E402
from tools.backtest.models import EventStats, StrategyStats  # noqa: E402

COINS = ("BTC-USD", "ETH-USD", "SOL-USD")
START, END = "2018-01-01", "2025-12-31"
WEEK = 1  # index of the 7-day horizon in (1, 7, 30)


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:+.1f}%"


def share(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.0f}%"


def row(coin: str, rule: str, s: EventStats) -> str:
    if not s.enough:
        return f"| {coin} | {rule} {s.side} | {s.n} | not enough history | | |"
    way = "in the signal's way" if s.favourable else "against the signal"
    verdict = f"p = {s.p_value:.3f}" + (f" (significant, {way})" if s.significant else "")
    return (
        f"| {coin} | {rule} {s.side} | {s.n} | {share(s.hit_rate)} vs {share(s.base_hit_rate)} "
        f"| {pct(s.mean_return)} vs {pct(s.base_mean_return)} | {verdict} |"
    )


def cell(s: StrategyStats) -> str:
    sharpe = "n/a" if s.sharpe is None else f"{s.sharpe:.2f}"
    return (
        f"{pct(s.total_return)} (Sharpe {sharpe}, max DD {pct(s.max_drawdown)}, "
        f"{s.trades} trades, exposure {share(s.exposure)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=REPO.parent / "shared/data/prices")
    args = parser.parse_args()
    bars = {coin: load_bars(args.folder / f"{coin}.csv", 100) for coin in COINS}
    tables = {coin: event_table(b, start=START, end=END) for coin, b in bars.items()}
    counts: dict[str, int] = {}
    for table in tables.values():
        for name, record in table.items():
            if name != STANCE:
                counts[name] = counts.get(name, 0) + record.buy[WEEK].n + record.sell[WEEK].n
    top = sorted(counts, key=lambda name: -counts[name])[:5]
    print("| coin | rule, side | n | up (buy) or down (sell) after 7 d vs all days "
          "| mean 7-day return vs all days | randomisation test |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for coin, table in tables.items():
        for name in (*top, STANCE):
            for stats in (table[name].buy[WEEK], table[name].sell[WEEK]):
                print(row(coin, name, stats))
    print()
    print("| coin | period | stance long/flat | stance long/short | buy and hold |")
    print("|---|---|---|---|---|")
    for coin, b in bars.items():
        report = backtest(b, symbol=coin, rule=STANCE, start=START, end=END, fee_bps=10,
                          slippage_bps=0)  # fmt: skip
        s = report.strategy
        period = f"{report.start:%Y-%m-%d} to {report.end:%Y-%m-%d}"
        print(f"| {coin} | {period} | {cell(s.long_flat)} | {cell(s.long_short)} "
              f"| {cell(s.buy_hold)} |")  # fmt: skip


if __name__ == "__main__":
    main()
