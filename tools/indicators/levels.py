"""Support/resistance from fractal swing points, and classic floor-trader pivot points.

A swing high is a bar whose high exceeds the `width` highs before it and is not exceeded by
the `width` highs after it (a swing low mirrors this); it is confirmed only once those later
bars exist, so the levels never use bars after `as_of`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tools.indicators.bars import BarArrays
from tools.indicators.models import Levels
from tools.indicators.params import IndicatorParams


def swing_indices(values: np.ndarray, width: int, *, highs: bool) -> np.ndarray:
    """Indices of confirmed fractal pivots (swing highs, or swing lows when `highs` is False)."""
    n = len(values)
    if n < 2 * width + 1:
        return np.empty(0, dtype=np.intp)
    series = values if highs else -values
    centre = series[width : n - width]
    mask = np.ones(len(centre), dtype=bool)
    for k in range(1, width + 1):
        mask &= centre > series[width - k : n - width - k]
        mask &= centre >= series[width + k : n - width + k]
    return np.flatnonzero(mask) + width


def _distinct_nearest(candidates: np.ndarray, tolerance: float, limit: int) -> list[float]:
    """Keep candidates in the given order, dropping any within `tolerance` (relative) of one
    already kept, up to `limit` levels."""
    kept: list[float] = []
    for price in candidates.tolist():
        if all(abs(price - level) > tolerance * abs(level) for level in kept):
            kept.append(float(price))
            if len(kept) == limit:
                break
    return kept


def support_resistance(bars: BarArrays, params: IndicatorParams) -> tuple[list[float], list[float]]:
    """Nearest distinct swing lows below and swing highs above the latest close."""
    start = max(0, bars.n - params.level_lookback)
    close = float(bars.close[-1])
    highs = bars.high[start:]
    lows = bars.low[start:]
    peaks = highs[swing_indices(highs, params.level_swing, highs=True)]
    troughs = lows[swing_indices(lows, params.level_swing, highs=False)]
    above = np.sort(peaks[peaks > close])
    below = np.sort(troughs[troughs < close])[::-1]
    support = _distinct_nearest(below, params.level_tolerance, params.max_levels)
    resistance = _distinct_nearest(above, params.level_tolerance, params.max_levels)
    return support, resistance


def classic_pivots(high: float, low: float, close: float) -> dict[str, float]:
    """Floor-trader pivots from one completed bar: P = (H + L + C) / 3 and three bands."""
    p = (high + low + close) / 3.0
    span = high - low
    return {
        "P": p,
        "R1": 2.0 * p - low,
        "S1": 2.0 * p - high,
        "R2": p + span,
        "S2": p - span,
        "R3": high + 2.0 * (p - low),
        "S3": low - 2.0 * (high - p),
    }


def compute_levels(
    bars: BarArrays, params: IndicatorParams, label_time: Callable[[int], str]
) -> Levels:
    """Swing support/resistance plus pivots for the latest bar, computed from the bar before it
    (the previous completed bar); pivots are empty with a single bar."""
    support, resistance = support_resistance(bars, params)
    if bars.n < 2:
        return Levels(support=support, resistance=resistance)
    i = bars.n - 2
    pivots = classic_pivots(float(bars.high[i]), float(bars.low[i]), float(bars.close[i]))
    return Levels(support=support, resistance=resistance, pivots=pivots, pivot_basis=label_time(i))
