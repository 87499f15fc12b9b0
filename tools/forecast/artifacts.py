"""Saving and loading a trained forecaster as three files in one folder.

`model.keras` (the Keras network), `scaler.json` (the train-only scaler state) and `meta.json`
(config, interval quantiles, training range, data fingerprint, optional metrics). Loading
checks every piece and raises `ModelArtifactError` naming the file at fault, so a half-written
or tampered artifact never serves a forecast.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from tools.errors import ModelArtifactError
from tools.forecast.config import ForecastConfig
from tools.forecast.dataset import Scaler
from tools.forecast.model import import_keras
from tools.forecast.trained import TrainedModel

MODEL_FILE = "model.keras"
SCALER_FILE = "scaler.json"
META_FILE = "meta.json"
#: Bumped when the layout of the files changes incompatibly.
FORMAT_VERSION = 1


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write via a temporary file and rename, so a crash never leaves half a JSON file."""
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(json.dumps(payload, indent=2, sort_keys=True, allow_nan=False))
    os.replace(partial, path)


def save_model(
    trained: TrainedModel, folder: str | Path, *, metrics: dict[str, Any] | None = None
) -> Path:
    """Write the three artifact files into `folder` (created if needed); returns the folder."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    partial = target / (MODEL_FILE + ".partial.keras")
    with warnings.catch_warnings():
        # TF variables' __array__ predates NumPy 2's `copy` keyword; harmless, raised in Keras.
        warnings.filterwarnings(
            "ignore", message=".*__array__ implementation", category=DeprecationWarning
        )
        trained.keras_model.save(partial)
    os.replace(partial, target / MODEL_FILE)
    _write_json(target / SCALER_FILE, trained.scaler.to_dict())
    meta = {"format_version": FORMAT_VERSION, **trained.metadata(), "metrics": metrics}
    _write_json(target / META_FILE, meta)
    return target


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ModelArtifactError(f"model artifact {path.parent}: {path.name} is missing")
    try:
        payload = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelArtifactError(
            f"model artifact {path.parent}: {path.name} is corrupt ({exc})"
        ) from exc
    if not isinstance(payload, dict):
        raise ModelArtifactError(f"model artifact {path.parent}: {path.name} is not an object")
    return payload


def read_metadata(folder: str | Path) -> dict[str, Any]:
    """The `meta.json` of an artifact (without loading TensorFlow)."""
    return _read_json(Path(folder) / META_FILE)


def load_model(folder: str | Path) -> TrainedModel:
    """Load an artifact written by `save_model`; `ModelArtifactError` if anything is off."""
    source = Path(folder)
    if not source.is_dir():
        raise ModelArtifactError(f"model artifact folder {source} does not exist")
    meta = _read_json(source / META_FILE)
    scaler_state = _read_json(source / SCALER_FILE)
    model_path = source / MODEL_FILE
    if not model_path.is_file():
        raise ModelArtifactError(f"model artifact {source}: {MODEL_FILE} is missing")
    try:
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"format_version {meta.get('format_version')} != {FORMAT_VERSION}")
        config = ForecastConfig.model_validate(meta["config"])
        scaler = Scaler.from_dict(scaler_state)
        quantiles = tuple((float(lo), float(hi)) for lo, hi in meta["residual_quantiles"])
        train_start = pd.Timestamp(meta["train_start"])
        train_end = pd.Timestamp(meta["train_end"])
        data_fingerprint = str(meta["fingerprint"])
        epochs_run = int(meta["epochs_run"])
        training_seconds = float(meta["training_seconds"])
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise ModelArtifactError(f"model artifact {source}: metadata is invalid ({exc})") from exc
    n_features = len(config.features)
    if len(quantiles) != config.horizon or len(scaler.feature_mean) != n_features:
        raise ModelArtifactError(
            f"model artifact {source}: scaler/quantiles do not match the saved config"
        )
    keras = import_keras()
    try:
        network = keras.models.load_model(model_path, compile=False)
    except Exception as exc:  # Keras raises many unrelated types for a bad zip/config/weights
        raise ModelArtifactError(
            f"model artifact {source}: {MODEL_FILE} is corrupt ({exc})"
        ) from exc
    expected_in = (None, config.window, n_features)
    if tuple(network.input_shape) != expected_in or network.output_shape[-1] != config.horizon:
        raise ModelArtifactError(
            f"model artifact {source}: network shape {network.input_shape} -> "
            f"{network.output_shape} does not match the config"
        )
    return TrainedModel(
        keras_model=network,
        scaler=scaler,
        config=config,
        residual_quantiles=quantiles,
        train_start=train_start,
        train_end=train_end,
        best_val_loss=meta.get("best_val_loss"),
        n_train_samples=int(meta.get("n_train_samples") or 0),
        n_val_samples=int(meta.get("n_val_samples") or 0),
        fingerprint=data_fingerprint,
        epochs_run=epochs_run,
        training_seconds=training_seconds,
    )
