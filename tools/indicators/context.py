"""What the signal rules read, plus the small helpers they share (number formats, crossovers).

Keeping these apart from the rules lets the rule modules stay independent of each other.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tools.indicators.bars import BarArrays
from tools.indicators.models import PatternHit
from tools.indicators.params import IndicatorParams


@dataclass(frozen=True, slots=True)
class SignalContext:
    """Bars, indicator series, parameters, time labels and patterns, all cut at `as_of`."""

    bars: BarArrays
    series: dict[str, np.ndarray]
    params: IndicatorParams
    label_time: Callable[[int], str]
    unit: str
    patterns: list[PatternHit]

    def last(self, key: str) -> float | None:
        """Latest finite value of a series, or None when absent or undefined."""
        values = self.series.get(key)
        if values is None:
            return None
        last = float(values[-1])
        return last if math.isfinite(last) else None

    @property
    def close(self) -> float:
        """The latest close."""
        return float(self.bars.close[-1])

    def ago(self, index: int) -> str:
        """'on the latest bar' / '1 day ago' / '5 hours ago' for a bar index."""
        k = self.bars.n - 1 - index
        if k == 0:
            return "on the latest bar"
        return f"{k} {self.unit}{'' if k == 1 else 's'} ago"


def fmt_num(x: float, *, signed: bool = False) -> str:
    """Two decimals from 1 up, four significant digits below (tiny-priced coins stay readable);
    never a thousands separator, so every number can be matched back to the report."""
    sign = "+" if signed else ""
    return f"{x:{sign}.2f}" if abs(x) >= 1 or x == 0 else f"{x:{sign}.4g}"


def last_cross(a: np.ndarray, b: np.ndarray) -> tuple[int, bool] | None:
    """Index of the latest bar where `a` crossed `b`, and whether it crossed upward.

    Searches backwards in growing windows, since the latest cross is usually recent.
    """
    n = len(a)
    span = 128
    while True:
        start = max(0, n - span)
        tail_a, tail_b = a[start:], b[start:]
        valid = np.isfinite(tail_a) & np.isfinite(tail_b)
        above = tail_a > tail_b
        found = np.flatnonzero((above[1:] != above[:-1]) & valid[1:] & valid[:-1])
        if found.size:
            i = int(found[-1]) + 1
            return start + i, bool(above[i])
        if start == 0:
            return None
        span *= 8
