"""Seeded synthetic OHLCV bars for the engine tests (no files, no network).

`random_walk_bars` is a geometric random walk with plausible candles: the open gaps a little
from the previous close, wicks extend beyond the body, volume grows with the size of the move.
`bars_from_closes` turns a hand-made close path into candles for scenario tests.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def random_walk_bars(
    n: int = 400,
    *,
    seed: int = 7,
    start: str = "2022-01-01",
    freq: str = "1D",
    price: float = 100.0,
    drift: float = 0.0004,
    volatility: float = 0.03,
) -> pd.DataFrame:
    """`n` bars of a seeded geometric random walk on a UTC index (daily by default)."""
    rng = np.random.default_rng(seed)
    returns = rng.normal(drift, volatility, n)
    close = price * np.exp(np.cumsum(returns))
    previous = np.concatenate([[price], close[:-1]])
    open_ = previous * np.exp(rng.normal(0.0, volatility * 0.15, n))
    body_high = np.maximum(open_, close)
    body_low = np.minimum(open_, close)
    high = body_high * np.exp(np.abs(rng.normal(0.0, volatility * 0.4, n)))
    low = body_low * np.exp(-np.abs(rng.normal(0.0, volatility * 0.4, n)))
    volume = 1e6 * np.exp(rng.normal(0.0, 0.3, n)) * (1.0 + 20.0 * np.abs(returns))
    index = pd.date_range(start, periods=n, freq=freq, tz="UTC")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=index
    )


def bars_from_closes(
    closes: Sequence[float],
    *,
    start: str = "2023-01-01",
    freq: str = "1D",
    wick: float = 0.004,
) -> pd.DataFrame:
    """Candles around a given close path: open = previous close, wicks of `wick` beyond the
    body, volume higher on bigger moves."""
    close = np.asarray(closes, dtype=float)
    open_ = np.concatenate([[close[0]], close[:-1]])
    high = np.maximum(open_, close) * (1.0 + wick)
    low = np.minimum(open_, close) * (1.0 - wick)
    move = np.abs(np.diff(np.log(close), prepend=np.log(close[0])))
    volume = 1e6 * (1.0 + 30.0 * move)
    index = pd.date_range(start, periods=len(close), freq=freq, tz="UTC")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=index
    )


def geometric_path(start: float, legs: Sequence[tuple[int, float]]) -> list[float]:
    """Closes built from legs of (`bars`, per-bar return): e.g. [(10, -0.03), (8, 0.02)]."""
    path = [start]
    for bars, step in legs:
        for _ in range(bars):
            path.append(path[-1] * (1.0 + step))
    return path
