"""Seeded synthetic market data the tests write themselves (no dependency on ../shared)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tools.forecast import ForecastConfig

#: A forecaster small enough to train in seconds (the integration tests' lifecycle model).
TINY_FORECAST = ForecastConfig(
    window=10, units=(8,), epochs=3, patience=1, horizon=30, batch_size=32
)


def synthetic_bars(
    n: int = 400,
    *,
    seed: int = 7,
    start: str = "2022-01-01",
    freq: str = "D",
    price: float = 30_000.0,
) -> pd.DataFrame:
    """A geometric random walk with consistent OHLC and positive volume, UTC-indexed."""
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0005, 0.03, n)
    close = price * np.exp(np.cumsum(returns))
    open_ = np.concatenate([[price], close[:-1]])
    spread = np.abs(rng.normal(0, 0.01, n)) + 0.002
    high = np.maximum(open_, close) * (1 + spread)
    low = np.minimum(open_, close) * (1 - spread)
    volume = rng.uniform(1e8, 5e8, n).round()
    index = pd.date_range(start, periods=n, freq=freq, tz="UTC", name="ts")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=index
    )


def write_csv(folder: Path, name: str, bars: pd.DataFrame) -> Path:
    """Write bars in the `Date,Open,High,Low,Close,Volume` layout the importer reads."""
    daily = bool((bars.index == bars.index.normalize()).all())
    fmt = "%Y-%m-%d" if daily and name.count("_1h") == 0 else "%Y-%m-%d %H:%M:%S%z"
    frame = pd.DataFrame(
        {
            "Date": bars.index.strftime(fmt),
            "Open": bars["open"],
            "High": bars["high"],
            "Low": bars["low"],
            "Close": bars["close"],
            "Volume": bars["volume"],
        }
    )
    path = folder / name
    frame.to_csv(path, index=False, float_format="%.10g")
    return path
