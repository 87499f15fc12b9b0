"""Candlestick patterns with TA-Lib: what fired on the latest bar and when each was last seen.

TA-Lib returns +100/-100 (or +/-200 for confirmed variants) on the bar completing a pattern;
the sign gives the direction, except for indecision patterns (doji, spinning top) which are
reported as neutral whatever the sign.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tools.indicators.bars import BarArrays
from tools.indicators.models import Direction, PatternHit

# (short name, TA-Lib function, label, always neutral?)
PATTERNS: tuple[tuple[str, str, str, bool], ...] = (
    ("engulfing", "CDLENGULFING", "Engulfing", False),
    ("hammer", "CDLHAMMER", "Hammer", False),
    ("inverted_hammer", "CDLINVERTEDHAMMER", "Inverted hammer", False),
    ("hanging_man", "CDLHANGINGMAN", "Hanging man", False),
    ("shooting_star", "CDLSHOOTINGSTAR", "Shooting star", False),
    ("doji", "CDLDOJI", "Doji", True),
    ("morning_star", "CDLMORNINGSTAR", "Morning star", False),
    ("evening_star", "CDLEVENINGSTAR", "Evening star", False),
    ("piercing", "CDLPIERCING", "Piercing line", False),
    ("dark_cloud_cover", "CDLDARKCLOUDCOVER", "Dark cloud cover", False),
    ("harami", "CDLHARAMI", "Harami", False),
    ("three_white_soldiers", "CDL3WHITESOLDIERS", "Three white soldiers", False),
    ("three_black_crows", "CDL3BLACKCROWS", "Three black crows", False),
)


def _direction(code: int, neutral: bool) -> Direction:
    if neutral or code == 0:
        return "neutral"
    return "bullish" if code > 0 else "bearish"


def detect_patterns(
    bars: BarArrays, lookback: int, label_time: Callable[[int], str]
) -> list[PatternHit]:
    """One entry per tracked pattern: fired on the latest bar?, last occurrence within
    `lookback` bars (date, bars ago, direction) and how often it occurred in that window."""
    import talib

    n = bars.n
    start = max(0, n - lookback)
    hits: list[PatternHit] = []
    for name, function, label, neutral in PATTERNS:
        call: Callable[..., Any] = getattr(talib, function)
        codes = call(bars.open, bars.high, bars.low, bars.close)
        fired = np.flatnonzero(codes[start:])
        if fired.size == 0:
            hits.append(PatternHit(name=name, label=label, fired_latest=False))
            continue
        last = start + int(fired[-1])
        hits.append(
            PatternHit(
                name=name,
                label=label,
                fired_latest=last == n - 1,
                direction=_direction(int(codes[last]), neutral),
                last_seen=label_time(last),
                bars_ago=n - 1 - last,
                occurrences=int(fired.size),
            )
        )
    return hits
