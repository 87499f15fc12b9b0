"""Benchmark: the full technical engine vs the raw TA-Lib calls it makes, on ~10 years of BTC.

Both are timed in the same process, interleaved run by run, and the medians are compared;
the engine's bookkeeping (validation, signals, levels, models) should stay under 2x TA-Lib.

    .venv/bin/python benchmarks/bench_technical_panel.py [--csv PATH] [--runs 30] [--years 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tools.indicators import DEFAULT_PARAMS, TechnicalEngine  # noqa: E402
from tools.indicators.patterns import PATTERNS  # noqa: E402

DEFAULT_CSV = REPO.parent / "shared" / "data" / "prices" / "BTC-USD.csv"


def load_bars(csv: Path, years: int) -> pd.DataFrame:
    """Read a `Date,Open,High,Low,Close,Volume` file into the engine's input frame."""
    frame = pd.read_csv(csv, parse_dates=["Date"])
    frame = frame.rename(columns=str.lower).set_index("date").sort_index()
    frame.index = pd.DatetimeIndex(frame.index).tz_localize("UTC")
    frame = frame[["open", "high", "low", "close", "volume"]].astype("float64")
    return frame.iloc[-years * 365 :]


def raw_talib_calls(bars: pd.DataFrame) -> Callable[[], None]:
    """A closure making exactly the TA-Lib calls of the default panel, on ready arrays."""
    import talib

    p = DEFAULT_PARAMS
    o, h, lo, c, v = (np.ascontiguousarray(bars[k].to_numpy()) for k in bars.columns)
    patterns: list[Callable[..., Any]] = [getattr(talib, fn) for _, fn, _, _ in PATTERNS]

    def run() -> None:
        talib.RSI(c, p.rsi_period)
        talib.MACD(c, p.macd_fast, p.macd_slow, p.macd_signal)
        talib.BBANDS(c, p.bb_period, p.bb_std, p.bb_std, talib.MA_Type.SMA)
        for period in p.sma_periods:
            talib.SMA(c, period)
        for period in p.ema_periods:
            talib.EMA(c, period)
        talib.STOCH(
            h, lo, c, p.stoch_k, p.stoch_k_smooth, talib.MA_Type.SMA, p.stoch_d, talib.MA_Type.SMA
        )
        talib.WILLR(h, lo, c, p.willr_period)
        talib.CCI(h, lo, c, p.cci_period)
        talib.ADX(h, lo, c, p.adx_period)
        talib.PLUS_DI(h, lo, c, p.adx_period)
        talib.MINUS_DI(h, lo, c, p.adx_period)
        talib.ATR(h, lo, c, p.atr_period)
        talib.OBV(c, v)
        talib.MFI(h, lo, c, v, p.mfi_period)
        talib.ROC(c, p.roc_period)
        talib.SAR(h, lo, p.sar_acceleration, p.sar_maximum)
        for detect in patterns:
            detect(o, h, lo, c)

    return run


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--years", type=int, default=10)
    args = parser.parse_args(argv)

    bars = load_bars(args.csv, args.years)
    engine = TechnicalEngine()
    raw = raw_talib_calls(bars)

    def analyze() -> object:
        return engine.analyze(bars, symbol=args.csv.stem)

    for _ in range(3):  # warm-up: imports, TA-Lib init, pydantic schemas
        analyze()
        raw()
    engine_times: list[float] = []
    raw_times: list[float] = []
    for _ in range(args.runs):
        engine_times.append(_timed(analyze))
        raw_times.append(_timed(raw))

    engine_ms = statistics.median(engine_times) * 1e3
    raw_ms = statistics.median(raw_times) * 1e3
    ratio = engine_ms / raw_ms
    span = f"{bars.index[0]:%Y-%m-%d} .. {bars.index[-1]:%Y-%m-%d}"

    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Technical panel on {args.csv.name}: {len(bars)} bars ({span})")
    table.add_column("measure")
    table.add_column(f"median of {args.runs} runs", justify="right")
    table.add_row("engine.analyze (full report)", f"{engine_ms:.3f} ms")
    table.add_row("raw TA-Lib calls (same set)", f"{raw_ms:.3f} ms")
    table.add_row("overhead ratio", f"{ratio:.2f}x")
    verdict = "met" if ratio < 2.0 else "missed"
    table.add_row("goal < 2.00x", verdict)
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
