"""Point and interval metrics of a forecast against the naive persistence baseline.

All functions take aligned NumPy arrays of prices for one horizon: the actual close on the
target day, the model's price, its interval bounds, and the naive price (the origin close,
"tomorrow = today"). Direction is measured from the origin close, i.e. from `naive`.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel, Field


class HorizonMetrics(BaseModel):
    """Scores of one horizon over the evaluated days, beside naive persistence on the same days.

    `skill` = 1 - mae / naive_mae (> 0: better than persistence). `up_share` is the share of
    days the price rose from the origin: an "always up" guess scores exactly that directional
    accuracy, so compare `directional_accuracy` with max(up_share, 1 - up_share).
    """

    horizon: int
    n: int
    mape: float = Field(description="Mean absolute percentage error, in percent.")
    rmse: float
    mse: float
    mae: float
    directional_accuracy: float = Field(description="Share of days with the right sign.")
    coverage: float = Field(description="Share of actuals inside [lower, upper].")
    interval_level: float | None = None
    naive_mape: float
    naive_rmse: float
    naive_mae: float
    skill: float
    up_share: float


def mape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute percentage error in percent."""
    return float(np.mean(np.abs((actual - predicted) / actual)) * 100.0)


def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(actual - predicted)))


def mse(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean squared error."""
    return float(np.mean((actual - predicted) ** 2))


def skill(model_mae: float, naive_mae: float) -> float:
    """1 - model MAE / naive MAE; 0 when the naive error is zero (nothing to beat)."""
    return 0.0 if naive_mae == 0 else 1.0 - model_mae / naive_mae


def directional_accuracy(actual: np.ndarray, predicted: np.ndarray, origin: np.ndarray) -> float:
    """Share of days where sign(predicted - origin) equals sign(actual - origin).

    A predicted change of exactly zero counts as right only if the price did not move, so a
    model that always answers "no change" scores about 0, not 50%.
    """
    return float(np.mean(np.sign(predicted - origin) == np.sign(actual - origin)))


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of actuals with lower <= actual <= upper."""
    return float(np.mean((actual >= lower) & (actual <= upper)))


def horizon_metrics(
    horizon: int,
    actual: np.ndarray,
    predicted: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    naive: np.ndarray,
    interval_level: float | None = None,
) -> HorizonMetrics:
    """Every metric of one horizon; NaN-free inputs of equal length >= 1 are required."""
    arrays = [np.asarray(a, dtype=np.float64) for a in (actual, predicted, lower, upper, naive)]
    actual, predicted, lower, upper, naive = arrays
    if len(actual) == 0 or any(len(a) != len(actual) for a in arrays):
        raise ValueError("metrics need non-empty arrays of equal length")
    model_mae, naive_mae, model_mse = (
        mae(actual, predicted),
        mae(actual, naive),
        mse(actual, predicted),
    )
    return HorizonMetrics(
        horizon=horizon,
        n=len(actual),
        mape=mape(actual, predicted),
        rmse=math.sqrt(model_mse),
        mse=model_mse,
        mae=model_mae,
        directional_accuracy=directional_accuracy(actual, predicted, naive),
        coverage=coverage(actual, lower, upper),
        interval_level=interval_level,
        naive_mape=mape(actual, naive),
        naive_rmse=math.sqrt(mse(actual, naive)),
        naive_mae=naive_mae,
        skill=skill(model_mae, naive_mae),
        up_share=float(np.mean(actual > naive)),
    )
