"""The network: stacked LSTM layers with dropout and a Dense(H) head, built lazily.

TensorFlow/Keras are imported inside the functions so that importing `tools.forecast` (and the
API that depends on it) stays cheap; the first training or model load pays the import.
"""

from __future__ import annotations

import os
from typing import Any

from tools.forecast.config import ForecastConfig


def import_keras() -> Any:
    """Import Keras (TensorFlow backend) on first use, with TF's C++ info logs quietened."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    return keras


def configure_determinism(seed: int) -> None:
    """Seed Python, NumPy and TF, and ask TF for deterministic kernels (same data -> same fit)."""
    keras = import_keras()
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def masked_loss(kind: str) -> Any:
    """A loss over the finite targets only (NaN marks a horizon past the training window).

    Returns a Keras-compatible function; "mae" fits the conditional median, which is what the
    MAE-based comparison with persistence rewards and is robust to crypto's fat tails.
    """
    ops = import_keras().ops

    def loss(y_true: Any, y_pred: Any) -> Any:
        mask = ops.logical_not(ops.isnan(y_true))
        diff = ops.where(mask, y_true - y_pred, ops.zeros_like(y_pred))
        if kind == "mae":
            per = ops.abs(diff)
        elif kind == "mse":
            per = ops.square(diff)
        else:  # huber with delta 1 (in scaled units, i.e. one typical move)
            absolute = ops.abs(diff)
            per = ops.where(absolute <= 1.0, 0.5 * ops.square(diff), absolute - 0.5)
        count = ops.maximum(ops.sum(ops.cast(mask, per.dtype)), 1.0)
        return ops.sum(per) / count

    loss.__name__ = f"masked_{kind}"
    return loss


def build_model(config: ForecastConfig, n_features: int) -> Any:
    """Compile LSTM(units[0]) -> ... -> LSTM(units[-1]) -> Dense(horizon) with Adam."""
    keras = import_keras()

    inputs = keras.Input(shape=(config.window, n_features), name="features")
    x = inputs
    for i, units in enumerate(config.units):
        last = i == len(config.units) - 1
        x = keras.layers.LSTM(units, return_sequences=not last, name=f"lstm_{i}")(x)
        if config.dropout > 0:
            x = keras.layers.Dropout(config.dropout, name=f"dropout_{i}")(x)
    outputs = keras.layers.Dense(config.horizon, name="log_returns")(x)
    model = keras.Model(inputs, outputs, name="lstm_forecaster")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
        loss=masked_loss(config.loss),
    )
    return model
