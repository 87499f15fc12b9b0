"""From daily OHLCV bars to LSTM samples: features, targets, a train-only scaler, windows.

Targets are the cumulative log returns log(close[t+h] / close[t]) for h = 1..H, predicted all
at once by one Dense(H) head ("direct multi-output"). Why returns and not prices: prices are
non-stationary (BTC spans 400 to 120,000 USD), so a scaler fitted on the past would put today
outside its range; returns are roughly stationary and scale-free, and a zero return is exactly
the naive forecast, so the network only has to learn deviations from persistence. Why direct
and not recursive: feeding predictions back compounds their errors over 30 steps, while a
direct head gives every horizon its own trained output and its own residual distribution.

Every feature is a trailing window of at most `lookback` days, so the value on day t depends
only on bars <= t, and computing it on a short tail gives exactly the value computed on the
full history (which lets `predict` work on the last few dozen bars only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from knowledge.as_of import parse_as_of
from tools.errors import InsufficientDataError, InvalidBarsError
from tools.forecast.config import ForecastConfig
from tools.indicators.bars import AsOf, BarArrays, prepare_bars, to_utc_timestamp

#: Days of returns in the trailing volatility that scales the interval.
VOL_DAYS = 30

#: Fewest training and validation samples a fit accepts.
MIN_TRAIN_SAMPLES = 30
MIN_VALIDATION_SAMPLES = 10


def _trailing_mean(values: np.ndarray, length: int) -> np.ndarray:
    """Mean of values[t-length+1..t] at t (NaN before), computed window by window (exact)."""
    out = np.full(values.shape, np.nan)
    if len(values) >= length:
        out[length - 1 :] = sliding_window_view(values, length).mean(axis=1)
    return out


def _log_return(b: BarArrays) -> np.ndarray:
    out = np.full(b.n, np.nan)
    out[1:] = np.diff(np.log(b.close))
    return out


def _range(b: BarArrays) -> np.ndarray:
    return np.log(b.high / b.low)


def _body(b: BarArrays) -> np.ndarray:
    return np.log(b.close / b.open)


def _volume_z(b: BarArrays) -> np.ndarray:
    """Log volume minus its mean over the previous 20 days (volume surprise)."""
    log_volume = np.log1p(b.volume)
    out = np.full(b.n, np.nan)
    previous = _trailing_mean(log_volume, 20)
    out[20:] = log_volume[20:] - previous[19:-1]
    return out


def _volatility(b: BarArrays) -> np.ndarray:
    """Standard deviation of the last 10 daily log returns."""
    returns = _log_return(b)
    out = np.full(b.n, np.nan)
    if b.n > 10:
        out[10:] = sliding_window_view(returns[1:], 10).std(axis=1)
    return out


def _sma_gap(b: BarArrays) -> np.ndarray:
    """Log distance of the close from its 20-day simple moving average."""
    return np.log(b.close / _trailing_mean(b.close, 20))


def _rsi(b: BarArrays) -> np.ndarray:
    """14-day RSI from simple averages, mapped to [-1, 1] (finite memory, unlike Wilder's)."""
    returns = _log_return(b)
    gains = _trailing_mean(np.clip(returns, 0.0, None), 14)
    losses = _trailing_mean(np.clip(-returns, 0.0, None), 14)
    total = gains + losses
    with np.errstate(invalid="ignore", divide="ignore"):
        rsi = np.where(total > 0, 2.0 * gains / total - 1.0, 0.0)
    rsi[np.isnan(total)] = np.nan
    return rsi


#: name -> (function of the bars, days of history needed before the first valid value).
FEATURES: dict[str, tuple[Callable[[BarArrays], np.ndarray], int]] = {
    "log_return": (_log_return, 1),
    "range": (_range, 0),
    "body": (_body, 0),
    "volume_z": (_volume_z, 20),
    "volatility": (_volatility, 10),
    "sma_gap": (_sma_gap, 19),
    "rsi": (_rsi, 14),
}


def lookback(names: Sequence[str]) -> int:
    """Bars of history the features need before their first valid value."""
    return max(FEATURES[name][1] for name in names)


def bars_needed(config: ForecastConfig) -> int:
    """Fewest bars that give one complete input window and the interval's trailing volatility
    (the predict path cuts the history to this)."""
    return max(lookback(config.features) + config.window, VOL_DAYS + 1)


def trailing_volatility(arrays: BarArrays, origins: np.ndarray) -> np.ndarray:
    """Standard deviation of the `VOL_DAYS` daily log returns ending at each origin."""
    returns = np.diff(np.log(arrays.close))  # returns[i - 1] is the move into bar i
    view = sliding_window_view(returns, VOL_DAYS)  # row j covers moves into bars j+1..j+VOL_DAYS
    vol = view[origins - VOL_DAYS].std(axis=1)
    return np.maximum(vol, 1e-6)


def through_label(moment: AsOf) -> pd.Timestamp | None:
    """The label of the last daily bar to use: a date (or "YYYY-MM-DD") is that day's bar, a
    timestamp is a bar's own label (naive = UTC). Training and evaluation walk bar labels;
    callers holding an instant (`as_of`) convert it first with `as_of_label`."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = parse_as_of(moment)
    if not isinstance(moment, datetime):
        return pd.Timestamp(moment).tz_localize("UTC")
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def as_of_label(as_of: AsOf) -> pd.Timestamp | None:
    """The label of the last daily bar closed by the instant `as_of` (the rule of
    `knowledge.as_of`: a date keeps that day's bar, a date-time only bars already closed)."""
    return to_utc_timestamp(as_of, "1d")


def load_bars(bars: pd.DataFrame, through: AsOf = None) -> BarArrays:
    """Validate the OHLCV frame, keep the daily bars up to the one labelled `through`
    (`through_label`) and check prices are positive."""
    arrays = prepare_bars(bars)
    stop = cut_position(arrays, through)
    if stop == 0:
        raise InsufficientDataError(
            f"no daily bar on or before {through} (first {arrays.index[0].date()})"
        )
    if stop < arrays.n:
        arrays = head(arrays, stop)
    prices = np.stack([arrays.open, arrays.high, arrays.low, arrays.close])
    if (prices <= 0).any() or (arrays.volume < 0).any():
        raise InvalidBarsError("prices must be positive and volume non-negative")
    return arrays


def tail(arrays: BarArrays, start: int) -> BarArrays:
    """The bars from position `start` on (positions of a `BarArrays`, not dates)."""
    return BarArrays(
        arrays.index[start:],
        arrays.open[start:],
        arrays.high[start:],
        arrays.low[start:],
        arrays.close[start:],
        arrays.volume[start:],
    )


def head(arrays: BarArrays, stop: int) -> BarArrays:
    """The first `stop` bars."""
    return BarArrays(
        arrays.index[:stop],
        arrays.open[:stop],
        arrays.high[:stop],
        arrays.low[:stop],
        arrays.close[:stop],
        arrays.volume[:stop],
    )


def cut_position(arrays: BarArrays, moment: AsOf) -> int:
    """Number of bars labelled at or before `moment` (`through_label`)."""
    cutoff = through_label(moment)
    return arrays.n if cutoff is None else int(arrays.index.searchsorted(cutoff, side="right"))


def feature_matrix(arrays: BarArrays, names: Sequence[str]) -> np.ndarray:
    """(n, features) float matrix; the first `lookback(names)` rows hold NaN."""
    return np.column_stack([FEATURES[name][0](arrays) for name in names])


def target_matrix(close: np.ndarray, horizon: int) -> np.ndarray:
    """(n, horizon): log(close[t+h] / close[t]) for h = 1..horizon, NaN past the last bar."""
    log_close = np.log(close)
    out = np.full((len(close), horizon), np.nan)
    for h in range(1, horizon + 1):
        out[:-h, h - 1] = log_close[h:] - log_close[:-h]
    return out


@dataclass(frozen=True)
class Scaler:
    """Feature z-scores and per-horizon target scales, fitted on the training window only.

    Targets are divided by their root mean square but not centred: the network then predicts
    around zero return (persistence), and the training window's drift is not built in.
    """

    feature_mean: tuple[float, ...]
    feature_std: tuple[float, ...]
    target_scale: tuple[float, ...]
    clip: float

    @classmethod
    def fit(cls, features: np.ndarray, targets: np.ndarray, clip: float) -> Scaler:
        """Statistics of the given rows (the caller passes training-window rows only)."""
        mean = np.nanmean(features, axis=0)
        std = np.nanstd(features, axis=0)
        scale = np.sqrt(np.nanmean(targets**2, axis=0))
        return cls(
            tuple(float(x) for x in mean),
            tuple(float(x) if x > 1e-12 else 1.0 for x in std),
            tuple(float(x) if x > 1e-12 else 1.0 for x in scale),
            float(clip),
        )

    def features(self, values: np.ndarray) -> np.ndarray:
        """z-score then clip to ±clip (a crash day should not saturate the LSTM gates)."""
        scaled = (values - np.asarray(self.feature_mean)) / np.asarray(self.feature_std)
        return np.clip(scaled, -self.clip, self.clip)

    def scale_targets(self, targets: np.ndarray) -> np.ndarray:
        """Log returns -> network units (first columns when fewer horizons are given)."""
        return targets / np.asarray(self.target_scale[: targets.shape[-1]])

    def unscale_targets(self, values: np.ndarray) -> np.ndarray:
        """Network units -> log returns."""
        return values * np.asarray(self.target_scale[: values.shape[-1]])

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe state."""
        return {
            "feature_mean": list(self.feature_mean),
            "feature_std": list(self.feature_std),
            "target_scale": list(self.target_scale),
            "clip": self.clip,
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Scaler:
        """Inverse of `to_dict`; raises KeyError/TypeError/ValueError on a malformed state."""
        return cls(
            tuple(float(x) for x in state["feature_mean"]),
            tuple(float(x) for x in state["feature_std"]),
            tuple(float(x) for x in state["target_scale"]),
            float(state["clip"]),
        )


def windows(scaled: np.ndarray, origins: np.ndarray, window: int) -> np.ndarray:
    """(len(origins), window, features) float32: rows origin-window+1..origin for each origin."""
    view = sliding_window_view(scaled, window, axis=0)  # (n-window+1, features, window)
    return np.ascontiguousarray(view[origins - window + 1].transpose(0, 2, 1), dtype=np.float32)


@dataclass(frozen=True)
class TrainingSet:
    """Samples of one training window, split in time: train first, validation at the end."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    val_volatility: np.ndarray
    scaler: Scaler
    train_start: pd.Timestamp
    train_end: pd.Timestamp


def build_training_set(arrays: BarArrays, config: ForecastConfig) -> TrainingSet:
    """Samples from bars that all lie in the training window (the caller cut them).

    Each origin t needs a full feature window and at least its 1-day target; longer horizons
    past the window's end are NaN and masked by the loss. Training targets that reach into the
    validation period are masked too (purging), so validation scores days the fit never saw.
    """
    lb, window, horizon = lookback(config.features), config.window, config.horizon
    features = feature_matrix(arrays, config.features)
    targets = target_matrix(arrays.close, horizon)
    origins = np.arange(max(lb + window - 1, VOL_DAYS), arrays.n - 1)
    n_val = round(len(origins) * config.validation_fraction)
    if len(origins) - n_val < MIN_TRAIN_SAMPLES or n_val < MIN_VALIDATION_SAMPLES:
        raise InsufficientDataError(
            f"{arrays.n} bars give {len(origins)} samples; training needs at least "
            f"{MIN_TRAIN_SAMPLES + MIN_VALIDATION_SAMPLES} with window {window} and "
            f"validation_fraction {config.validation_fraction}"
        )
    scaler = Scaler.fit(features[lb:], targets[lb + window - 1 :], config.clip)
    scaled = scaler.features(features)
    train_origins, val_origins = origins[:-n_val], origins[-n_val:]
    y_train = targets[train_origins].copy()
    reach = train_origins[:, None] + np.arange(1, horizon + 1)[None, :]
    y_train[reach > val_origins[0]] = np.nan
    return TrainingSet(
        x_train=windows(scaled, train_origins, window),
        y_train=scaler.scale_targets(y_train).astype(np.float32),
        x_val=windows(scaled, val_origins, window),
        y_val=scaler.scale_targets(targets[val_origins]).astype(np.float32),
        val_volatility=trailing_volatility(arrays, val_origins),
        scaler=scaler,
        train_start=arrays.index[0],
        train_end=arrays.index[-1],
    )


def inputs_at(
    arrays: BarArrays, origins: np.ndarray, config: ForecastConfig, scaler: Scaler
) -> np.ndarray:
    """Scaled input windows ending at the given bar positions (each must have full history)."""
    if len(origins) and int(origins.min()) < bars_needed(config) - 1:
        raise InsufficientDataError(
            f"a forecast needs {bars_needed(config)} bars of history (window {config.window} "
            f"+ feature lookback {lookback(config.features)})"
        )
    scaled = scaler.features(feature_matrix(arrays, config.features))
    return windows(scaled, origins, config.window)


def fingerprint(arrays: BarArrays) -> str:
    """sha256 of the bars' timestamps and OHLCV values (identifies the training data)."""
    import hashlib

    digest = hashlib.sha256()
    digest.update(arrays.index.as_unit("ns").asi8.tobytes())
    for column in (arrays.open, arrays.high, arrays.low, arrays.close, arrays.volume):
        digest.update(np.ascontiguousarray(column, dtype=np.float64).tobytes())
    return digest.hexdigest()
