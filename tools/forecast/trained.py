"""`TrainedModel`: the fitted network with everything needed to reproduce and serve it.

It is a plain container (the Keras model, the train-only scaler, the config, the interval
quantiles and the provenance of the fit) plus the fast inference path used by `predict` and
by the walk-forward evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tools.forecast.config import ForecastConfig
from tools.forecast.dataset import Scaler, trailing_volatility
from tools.forecast.predict import Forecast, forecast

if TYPE_CHECKING:
    from tools.indicators.bars import AsOf, BarArrays


@dataclass(eq=False)
class TrainedModel:
    """A fitted forecaster.

    `residual_quantiles[h-1]` is the (lower, upper) pair of validation-residual quantiles of
    the h-day log return, with lower <= 0 <= upper, added to the prediction to make the band
    (in units of the trailing 30-day volatility when `config.interval_scaling` says so).
    `train_start`/`train_end` are the first and last bar of the training window and
    `fingerprint` the sha256 of those bars, so a registry can tell which data made the model.
    """

    keras_model: Any
    scaler: Scaler
    config: ForecastConfig
    residual_quantiles: tuple[tuple[float, float], ...]
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    fingerprint: str
    epochs_run: int
    training_seconds: float
    best_val_loss: float | None = None
    n_train_samples: int = 0
    n_val_samples: int = 0
    _infer: Any = field(default=None, init=False, repr=False)

    def predict_log_returns(self, x: np.ndarray) -> np.ndarray:
        """(batch, horizon) predicted cumulative log returns for scaled input windows.

        Calls a `tf.function` traced once per model (no `model.predict` set-up per call) and
        applies the configured shrinkage.
        """
        batch = np.asarray(x, dtype=np.float32)
        if self._infer is None:
            import tensorflow as tf

            model = self.keras_model
            spec = tf.TensorSpec([None, *batch.shape[1:]], tf.float32)

            @tf.function(input_signature=[spec])
            def infer(inputs: Any) -> Any:
                return model(inputs, training=False)

            # One trace per model by design (fixed signature); TF's "retracing" warning counts
            # traces across models, e.g. one per walk-forward fold, so it is muted for it.
            logger = tf.get_logger()
            level = logger.level
            logger.setLevel("ERROR")
            try:
                infer.get_concrete_function()
            finally:
                logger.setLevel(level)
            self._infer = infer
        raw = np.asarray(self._infer(batch), dtype=np.float64)
        return self.config.shrinkage * self.scaler.unscale_targets(raw)

    def band_scale(self, arrays: BarArrays, origins: np.ndarray) -> np.ndarray:
        """Multiplier of the residual quantiles at each origin (trailing volatility or 1)."""
        if self.config.interval_scaling == "volatility":
            return trailing_volatility(arrays, origins)
        return np.ones(len(origins))

    def predict(
        self, bars: pd.DataFrame, *, as_of: AsOf = None, horizon: int | None = None
    ) -> Forecast:
        """Forecast `horizon` days (default: the model's) after the last bar <= `as_of`."""
        return forecast(self, bars, as_of=as_of, horizon=horizon)

    def metadata(self) -> dict[str, Any]:
        """JSON-safe description of the fit (what `meta.json` and `Forecast.model` carry)."""
        return {
            "config": self.config.model_dump(mode="json"),
            "residual_quantiles": [list(pair) for pair in self.residual_quantiles],
            "train_start": self.train_start.isoformat(),
            "train_end": self.train_end.isoformat(),
            "fingerprint": self.fingerprint,
            "epochs_run": self.epochs_run,
            "training_seconds": self.training_seconds,
            "best_val_loss": self.best_val_loss,
            "n_train_samples": self.n_train_samples,
            "n_val_samples": self.n_val_samples,
        }
