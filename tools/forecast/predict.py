"""Serving a forecast: prices for days 1..horizon after the last bar <= `as_of`, with a band.

price_h = last_close * exp(predicted cumulative log return h) and the band adds the
validation-residual quantiles of that horizon, so the band is asymmetric when the residuals
are. Only the last `window + lookback` bars are turned into features, which keeps a warm
forecast in the low milliseconds even on a 10-year frame.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from tools.errors import InsufficientDataError, ModelArtifactError
from tools.forecast.dataset import as_of_label, bars_needed, inputs_at, load_bars, tail

if TYPE_CHECKING:
    from tools.forecast.trained import TrainedModel
    from tools.indicators.bars import AsOf


class ForecastPoint(BaseModel):
    """One predicted day: the central price and the interval around it (lower <= upper)."""

    date: date
    price: float
    lower: float
    upper: float


class ModelInfo(BaseModel):
    """Provenance of the model that made a forecast."""

    train_start: datetime
    train_end: datetime
    fingerprint: str
    epochs_run: int
    training_seconds: float
    window: int
    max_horizon: int
    features: list[str]
    shrinkage: float
    seed: int


class Forecast(BaseModel):
    """A point-in-time forecast: `as_of` is the last bar used; `points[h-1]` is day h after it."""

    as_of: datetime
    last_close: float
    horizon: int
    interval_level: float = Field(description="Nominal coverage of [lower, upper], e.g. 0.8.")
    points: list[ForecastPoint]
    log_returns: list[float] = Field(description="Predicted cumulative log return per day.")
    model: ModelInfo


def model_info(trained: TrainedModel) -> ModelInfo:
    """The `ModelInfo` of a trained model."""
    return ModelInfo(
        train_start=trained.train_start.to_pydatetime(),
        train_end=trained.train_end.to_pydatetime(),
        fingerprint=trained.fingerprint,
        epochs_run=trained.epochs_run,
        training_seconds=trained.training_seconds,
        window=trained.config.window,
        max_horizon=trained.config.horizon,
        features=list(trained.config.features),
        shrinkage=trained.config.shrinkage,
        seed=trained.config.seed,
    )


def check_horizon(trained: TrainedModel, horizon: int | None) -> int:
    """The requested horizon, defaulting to the model's; ValueError outside 1..model horizon."""
    horizon = trained.config.horizon if horizon is None else int(horizon)
    if not 1 <= horizon <= trained.config.horizon:
        raise ValueError(f"horizon must be between 1 and {trained.config.horizon} days")
    return horizon


def price_band(
    last_close: float, log_returns: np.ndarray, quantiles: Any, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Central price, lower and upper bound for each horizon from predicted log returns.

    `scale` multiplies the residual quantiles (today's volatility for a volatility-scaled band).
    """
    q = np.asarray(quantiles, dtype=np.float64)[: len(log_returns)] * scale
    price = last_close * np.exp(log_returns)
    return (
        price,
        last_close * np.exp(log_returns + q[:, 0]),
        last_close * np.exp(log_returns + q[:, 1]),
    )


def forecast(
    trained: TrainedModel, bars: pd.DataFrame, *, as_of: AsOf = None, horizon: int | None = None
) -> Forecast:
    """Forecast days 1..horizon after the last daily bar closed by `as_of` (a date keeps that
    day's bar; bars after it are ignored)."""
    horizon = check_horizon(trained, horizon)
    arrays = load_bars(bars, as_of_label(as_of))
    need = bars_needed(trained.config)
    if arrays.n < need:
        raise InsufficientDataError(
            f"a forecast needs {need} daily bars up to as_of; {arrays.n} available"
        )
    recent = tail(arrays, arrays.n - need)
    origin = np.array([recent.n - 1])
    x = inputs_at(recent, origin, trained.config, trained.scaler)
    log_returns = trained.predict_log_returns(x)[0, :horizon]
    last_close = float(recent.close[-1])
    scale = float(trained.band_scale(recent, origin)[0])
    price, lower, upper = price_band(last_close, log_returns, trained.residual_quantiles, scale)
    last = recent.index[-1]
    points = [
        ForecastPoint(
            date=(last + pd.Timedelta(days=h)).date(),
            price=float(price[h - 1]),
            lower=float(lower[h - 1]),
            upper=float(upper[h - 1]),
        )
        for h in range(1, horizon + 1)
    ]
    if not all(math.isfinite(p.price) and p.lower <= p.price <= p.upper for p in points):
        raise ModelArtifactError("the model produced a non-finite forecast (corrupt weights?)")
    return Forecast(
        as_of=last.to_pydatetime(),
        last_close=last_close,
        horizon=horizon,
        interval_level=trained.config.interval_level,
        points=points,
        log_returns=[float(r) for r in log_returns],
        model=model_info(trained),
    )
