"""Seeded synthetic daily bars and tiny configs for the forecaster tests (no files, no network).

Trained models and reports are cached per process so several tests can share one fit; tests
must treat them as read-only.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from tools.forecast import EvaluationReport, ForecastConfig, TrainedModel, train_model, walk_forward

#: Small enough to fit in about a second on two cores.
TINY = ForecastConfig(
    window=10,
    units=(8,),
    dropout=0.0,
    epochs=3,
    batch_size=32,
    patience=2,
    validation_fraction=0.2,
    horizon=7,
    features=("log_return", "range", "volume_z"),
    seed=7,
)


def synthetic_bars(
    n: int = 400,
    *,
    seed: int = 3,
    start: str = "2021-01-01",
    volatility: float = 0.03,
    returns: np.ndarray | None = None,
) -> pd.DataFrame:
    """Daily candles of a seeded geometric random walk (or of the given log `returns`)."""
    rng = np.random.default_rng(seed)
    moves = rng.normal(0.0, volatility, n) if returns is None else np.asarray(returns, dtype=float)
    close = 100.0 * np.exp(np.cumsum(moves))
    open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(rng.normal(0.0, 0.002, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, 0.01, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, 0.01, n)))
    volume = 1e6 * np.exp(rng.normal(0.0, 0.2, n))
    index = pd.date_range(start, periods=n, freq="1D", tz="UTC")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=index
    )


def future_in_volume_bars(n: int = 500, *, seed: int = 5) -> pd.DataFrame:
    """A random walk whose volume on day t announces the return of day t+1.

    Legitimately predictable (volume is known at t): the positive control showing the
    pipeline finds information that is in its inputs.
    """
    bars = synthetic_bars(n, seed=seed)
    log_close = np.log(bars["close"].to_numpy())
    next_return = np.append(np.diff(log_close), 0.0)
    bars["volume"] = 1e6 * np.exp(10.0 * next_return)
    return bars


@cache
def tiny_model() -> TrainedModel:
    """One tiny model trained on the first 300 of 400 synthetic bars."""
    bars = synthetic_bars(400)
    return train_model(bars, TINY, train_end=bars.index[299])


@cache
def tiny_report() -> EvaluationReport:
    """Walk-forward over the last 60 of 420 synthetic days, refitting every 30."""
    bars = synthetic_bars(420, seed=11)
    return walk_forward(
        bars, TINY, start=bars.index[360], end=bars.index[-1], horizons=(1, 7), refit_every=30
    )
