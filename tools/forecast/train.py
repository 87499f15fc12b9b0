"""Fitting one model on the bars up to `train_end`, and calibrating its prediction interval.

The interval: for each horizon, the empirical (1-level)/2 and (1+level)/2 quantiles of the
validation residuals (actual - predicted log return). This is distribution-free (no normality
assumption, which daily crypto returns badly violate), costs nothing beyond one pass over the
validation slice, and is honest about fat tails and skew because it reuses what the model
actually got wrong on the most recent data it was allowed to see.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from tools.errors import InsufficientDataError
from tools.forecast.config import DEFAULT_CONFIG, ForecastConfig
from tools.forecast.dataset import build_training_set, fingerprint, load_bars
from tools.forecast.model import build_model, configure_determinism, import_keras
from tools.forecast.trained import TrainedModel
from tools.indicators.bars import AsOf

#: Called after each epoch with (epoch number from 1, which is also how many epochs are done,
#: training loss, validation loss).
Progress = Callable[[int, float, float], None]

#: Fewest validation residuals a horizon needs for its own quantiles.
MIN_RESIDUALS = 20


def residual_quantiles(
    residuals: np.ndarray, level: float, min_count: int = MIN_RESIDUALS
) -> tuple[tuple[float, float], ...]:
    """(lower, upper) residual quantiles per horizon column (NaN = no target), lower <= 0 <= upper.

    A horizon with fewer than `min_count` residuals (the end of a short validation slice
    cannot score 30-day targets) borrows the last well-estimated horizon's quantiles scaled by
    sqrt(h / h_known), the random-walk growth of uncertainty.
    """
    low_q, high_q = (1.0 - level) / 2.0, (1.0 + level) / 2.0
    out: list[tuple[float, float]] = []
    known: tuple[int, float, float] | None = None
    for column in range(residuals.shape[1]):
        values = residuals[:, column]
        values = values[np.isfinite(values)]
        h = column + 1
        if len(values) >= min_count:
            low, high = np.quantile(values, [low_q, high_q])
            known = (h, float(low), float(high))
        elif known is not None:
            factor = math.sqrt(h / known[0])
            low, high = known[1] * factor, known[2] * factor
        else:
            raise InsufficientDataError(
                f"only {len(values)} validation residuals for the 1-day horizon; "
                f"the interval needs {min_count}"
            )
        out.append((min(float(low), 0.0), max(float(high), 0.0)))
    return tuple(out)


def _progress_callback(progress: Progress) -> Any:
    keras = import_keras()

    class _Report(keras.callbacks.Callback):  # type: ignore[misc,name-defined]
        def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            logs = logs or {}
            progress(
                epoch + 1, float(logs.get("loss", math.nan)), float(logs.get("val_loss", math.nan))
            )

    return _Report()


def train_model(
    bars: pd.DataFrame,
    config: ForecastConfig = DEFAULT_CONFIG,
    *,
    train_end: AsOf = None,
    progress: Progress | None = None,
) -> TrainedModel:
    """Fit on the bars <= `train_end` (all bars when None); nothing after it is read.

    Early stopping watches the loss on the validation slice at the end of the window and
    restores the best epoch's weights; the interval quantiles come from the same slice.
    """
    arrays = load_bars(bars, train_end)
    data = build_training_set(arrays, config)
    keras = import_keras()
    configure_determinism(config.seed)
    model = build_model(config, data.x_train.shape[-1])
    stopper = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=config.patience, restore_best_weights=True
    )
    callbacks = [stopper] if progress is None else [stopper, _progress_callback(progress)]
    started = time.perf_counter()
    history = model.fit(
        data.x_train,
        data.y_train,
        validation_data=(data.x_val, data.y_val),
        epochs=config.epochs,
        batch_size=config.batch_size,
        shuffle=True,
        verbose=0,
        callbacks=callbacks,
    )
    seconds = time.perf_counter() - started
    val_losses = [float(v) for v in history.history.get("val_loss", [])]
    trained = TrainedModel(
        keras_model=model,
        scaler=data.scaler,
        config=config,
        residual_quantiles=(),
        train_start=data.train_start,
        train_end=data.train_end,
        fingerprint=fingerprint(arrays),
        epochs_run=len(history.history.get("loss", [])),
        training_seconds=round(seconds, 3),
        best_val_loss=min(val_losses) if val_losses else None,
        n_train_samples=len(data.x_train),
        n_val_samples=len(data.x_val),
    )
    predicted = trained.predict_log_returns(data.x_val)
    actual = data.scaler.unscale_targets(data.y_val.astype(np.float64))
    residuals = actual - predicted
    if config.interval_scaling == "volatility":
        residuals = residuals / data.val_volatility[:, None]
    trained.residual_quantiles = residual_quantiles(residuals, config.interval_level)
    return trained
