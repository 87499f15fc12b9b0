"""Indicator names and tunable parameters of the technical panel.

`IndicatorParams` holds every period and threshold in one validated, immutable model so a
report can be reproduced from its inputs; defaults are the textbook settings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.errors import UnknownIndicatorError

#: Indicator groups the panel can compute, in report order.
INDICATOR_NAMES: list[str] = [
    "rsi",
    "macd",
    "bbands",
    "sma",
    "ema",
    "stoch",
    "willr",
    "cci",
    "adx",
    "atr",
    "obv",
    "mfi",
    "roc",
    "sar",
    "patterns",
]

#: Common spellings accepted for the group names (what a person or a planner may type).
INDICATOR_ALIASES: dict[str, str] = {
    "bollinger": "bbands",
    "bollinger_bands": "bbands",
    "bb": "bbands",
    "stochastic": "stoch",
    "williams": "willr",
    "williams_r": "willr",
    "psar": "sar",
    "parabolic_sar": "sar",
    "candles": "patterns",
    "candlestick": "patterns",
    "candlesticks": "patterns",
    "dmi": "adx",
}


class IndicatorParams(BaseModel):
    """Periods and thresholds for the panel, the signal rules and the levels."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rsi_period: int = Field(default=14, ge=2, le=1000)
    macd_fast: int = Field(default=12, ge=2, le=1000)
    macd_slow: int = Field(default=26, ge=2, le=1000)
    macd_signal: int = Field(default=9, ge=2, le=1000)
    bb_period: int = Field(default=20, ge=2, le=1000)
    bb_std: float = Field(default=2.0, gt=0, le=10)
    sma_periods: tuple[int, ...] = (20, 50, 200)
    ema_periods: tuple[int, ...] = (20, 50, 200)
    stoch_k: int = Field(default=14, ge=2, le=1000)
    stoch_k_smooth: int = Field(default=3, ge=1, le=100)
    stoch_d: int = Field(default=3, ge=1, le=100)
    willr_period: int = Field(default=14, ge=2, le=1000)
    cci_period: int = Field(default=20, ge=2, le=1000)
    adx_period: int = Field(default=14, ge=2, le=1000)
    atr_period: int = Field(default=14, ge=1, le=1000)
    mfi_period: int = Field(default=14, ge=2, le=1000)
    roc_period: int = Field(default=10, ge=1, le=1000)
    sar_acceleration: float = Field(default=0.02, gt=0, le=1)
    sar_maximum: float = Field(default=0.2, gt=0, le=1)

    # signal thresholds
    rsi_oversold: float = Field(default=30.0, ge=0, le=100)
    rsi_overbought: float = Field(default=70.0, ge=0, le=100)
    stoch_oversold: float = Field(default=20.0, ge=0, le=100)
    stoch_overbought: float = Field(default=80.0, ge=0, le=100)
    willr_oversold: float = Field(default=-80.0, ge=-100, le=0)
    willr_overbought: float = Field(default=-20.0, ge=-100, le=0)
    cci_extreme: float = Field(default=100.0, gt=0)
    mfi_oversold: float = Field(default=20.0, ge=0, le=100)
    mfi_overbought: float = Field(default=80.0, ge=0, le=100)
    adx_trending: float = Field(default=25.0, gt=0, le=100)
    adx_weak: float = Field(default=20.0, gt=0, le=100)
    trend_fast: int = 50
    trend_slow: int = 200

    # divergences, patterns and levels
    divergence_lookback: int = Field(default=60, ge=10, le=1000)
    divergence_swing: int = Field(default=3, ge=1, le=20)
    divergence_min_rsi_gap: float = Field(default=2.0, ge=0)
    divergence_recent: int = Field(default=10, ge=0, le=1000)
    pattern_lookback: int = Field(default=30, ge=1, le=5000)
    level_lookback: int = Field(default=120, ge=5, le=5000)
    level_swing: int = Field(default=2, ge=1, le=50)
    level_tolerance: float = Field(default=0.01, ge=0, le=0.5)
    max_levels: int = Field(default=3, ge=1, le=20)

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        if self.macd_fast >= self.macd_slow:
            raise ValueError("macd_fast must be shorter than macd_slow")
        if self.rsi_oversold >= self.rsi_overbought:
            raise ValueError("rsi_oversold must be below rsi_overbought")
        if self.stoch_oversold >= self.stoch_overbought:
            raise ValueError("stoch_oversold must be below stoch_overbought")
        if self.willr_oversold >= self.willr_overbought:
            raise ValueError("willr_oversold must be below willr_overbought")
        if self.mfi_oversold >= self.mfi_overbought:
            raise ValueError("mfi_oversold must be below mfi_overbought")
        if self.sar_acceleration > self.sar_maximum:
            raise ValueError("sar_acceleration must not exceed sar_maximum")
        if self.adx_weak > self.adx_trending:
            raise ValueError("adx_weak must not exceed adx_trending")
        for name in ("sma_periods", "ema_periods"):
            periods = getattr(self, name)
            if not periods or any(p < 2 or p > 1000 for p in periods):
                raise ValueError(f"{name} must hold periods between 2 and 1000")
            if len(set(periods)) != len(periods):
                raise ValueError(f"{name} must not repeat a period")
        if self.trend_fast >= self.trend_slow:
            raise ValueError("trend_fast must be shorter than trend_slow")
        if self.trend_fast not in self.sma_periods or self.trend_slow not in self.sma_periods:
            raise ValueError("trend_fast and trend_slow must be listed in sma_periods")
        return self


DEFAULT_PARAMS = IndicatorParams()


def resolve_groups(indicators: Iterable[str] | None) -> tuple[str, ...]:
    """Normalise requested group names (case, aliases, duplicates); `None` means all groups.

    Raises `UnknownIndicatorError` naming every unknown entry and the valid names.
    """
    if indicators is None:
        return tuple(INDICATOR_NAMES)
    if isinstance(indicators, str):
        indicators = [indicators]
    wanted: set[str] = set()
    unknown: list[str] = []
    for raw in indicators:
        key = str(raw).strip().lower().replace("-", "_").replace(" ", "_")
        key = INDICATOR_ALIASES.get(key, key)
        if key in INDICATOR_NAMES:
            wanted.add(key)
        else:
            unknown.append(str(raw))
    if unknown:
        raise UnknownIndicatorError(unknown, INDICATOR_NAMES)
    return tuple(name for name in INDICATOR_NAMES if name in wanted)
