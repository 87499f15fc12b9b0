"""LSTM price forecaster: dataset, model, training, prediction, walk-forward evaluation, drift.

A pure engine: it takes daily OHLCV bars (tz-aware UTC index; open, high, low, close, volume)
and returns results; no database. TensorFlow is imported on the first fit or load only.

    model = train_model(bars, ForecastConfig(), train_end="2024-12-31")
    forecast = model.predict(bars, as_of="2024-12-31", horizon=7)
    report = walk_forward(bars, ForecastConfig(), start="2025-01-01", end="2025-12-31")
"""

from tools.forecast.artifacts import load_model, read_metadata, save_model
from tools.forecast.config import DEFAULT_CONFIG, FEATURE_NAMES, ForecastConfig
from tools.forecast.dataset import Scaler
from tools.forecast.drift import (
    InputDrift,
    PerformanceDrift,
    input_drift,
    ks_2samp,
    performance_drift,
    psi,
    return_drift,
)
from tools.forecast.evaluate import (
    EvaluationReport,
    EvaluationRow,
    FoldInfo,
    walk_forward,
)
from tools.forecast.metrics import HorizonMetrics, horizon_metrics
from tools.forecast.predict import Forecast, ForecastPoint, ModelInfo
from tools.forecast.report import evaluation_figure, evaluation_table, write_report
from tools.forecast.train import train_model
from tools.forecast.trained import TrainedModel

__all__ = [
    "DEFAULT_CONFIG",
    "FEATURE_NAMES",
    "EvaluationReport",
    "EvaluationRow",
    "FoldInfo",
    "Forecast",
    "ForecastConfig",
    "ForecastPoint",
    "HorizonMetrics",
    "InputDrift",
    "ModelInfo",
    "PerformanceDrift",
    "Scaler",
    "TrainedModel",
    "evaluation_figure",
    "evaluation_table",
    "horizon_metrics",
    "input_drift",
    "ks_2samp",
    "load_model",
    "performance_drift",
    "psi",
    "read_metadata",
    "return_drift",
    "save_model",
    "train_model",
    "walk_forward",
    "write_report",
]
