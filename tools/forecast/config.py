"""Hyper-parameters of the LSTM forecaster in one validated, immutable model.

Every choice that changes a forecast lives here, so a trained artifact can be reproduced from
its `meta.json` (the config is saved with the weights).
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Features the dataset knows how to compute (see `tools.forecast.dataset.FEATURES`).
FEATURE_NAMES: tuple[str, ...] = (
    "log_return",
    "range",
    "body",
    "volume_z",
    "volatility",
    "sma_gap",
    "rsi",
)

Loss = Literal["mae", "huber", "mse"]
IntervalScaling = Literal["volatility", "none"]


class ForecastConfig(BaseModel):
    """Window, network size, training schedule, horizon and interval level of one model.

    `validation_fraction` is taken from the END of the training window: early stopping and the
    interval residuals are then measured on the most recent data the model is allowed to see.
    `shrinkage` multiplies every predicted log return (0 = naive persistence, 1 = raw network
    output); it is a hyper-parameter to choose on past data, never on the evaluation window.
    The defaults are the outcome of the 2024 walk-forward tuning in
    `benchmarks/forecast_report.py` (one LSTM layer of 16 units, dropout 0.3, learning rate 3e-4, patience 10,
    shrinkage 0.5).
    `interval_scaling="volatility"` measures residuals in units of the trailing 30-day
    volatility at their origin and rescales by today's volatility, so the band widens in
    turbulent markets; "none" uses the raw residual quantiles.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    window: int = Field(default=30, ge=2, le=365, description="Days of features per sample.")
    units: tuple[int, ...] = Field(default=(16,), min_length=1, max_length=4)
    dropout: float = Field(default=0.3, ge=0.0, lt=1.0)
    epochs: int = Field(default=40, ge=1, le=1000)
    batch_size: int = Field(default=64, ge=1, le=4096)
    learning_rate: float = Field(default=3e-4, gt=0.0, le=1.0)
    patience: int = Field(default=10, ge=0, le=100, description="Early-stopping patience.")
    validation_fraction: float = Field(default=0.15, gt=0.0, lt=0.5)
    horizon: int = Field(default=30, ge=1, le=30, description="Max days ahead predicted.")
    interval_level: float = Field(default=0.8, gt=0.0, lt=1.0)
    seed: int = Field(default=42, ge=0)
    features: tuple[str, ...] = Field(
        default=("log_return", "range", "volume_z", "volatility", "sma_gap")
    )
    loss: Loss = Field(default="mae", description="Training loss on scaled log returns.")
    shrinkage: float = Field(default=0.5, ge=0.0, le=1.0)
    clip: float = Field(default=5.0, gt=0.0, description="Scaled features are clipped to ±clip.")
    interval_scaling: IntervalScaling = "volatility"

    @model_validator(mode="after")
    def _known_features(self) -> Self:
        unknown = [name for name in self.features if name not in FEATURE_NAMES]
        if unknown or not self.features:
            raise ValueError(
                f"unknown or empty features {unknown}; valid: {', '.join(FEATURE_NAMES)}"
            )
        if len(set(self.features)) != len(self.features):
            raise ValueError("features must not repeat")
        if any(u < 1 for u in self.units):
            raise ValueError("units must be positive")
        return self


DEFAULT_CONFIG = ForecastConfig()
