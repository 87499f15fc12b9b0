"""Technical-analysis engine: TA-Lib indicator panel, signals with reasons, levels, patterns.

Pure functions of an OHLCV frame (tz-aware UTC index; open, high, low, close, volume) and an
`as_of` time; no database. TA-Lib is imported lazily, on the first computation.

    report = TechnicalEngine().analyze(bars, symbol="BTC-USD", as_of="2025-06-30")
"""

from tools.indicators.engine import TechnicalEngine, indicator_frame
from tools.indicators.models import Levels, PatternHit, Signal, Summary, TechnicalReport
from tools.indicators.params import (
    DEFAULT_PARAMS,
    INDICATOR_ALIASES,
    INDICATOR_NAMES,
    IndicatorParams,
    resolve_groups,
)

__all__ = [
    "DEFAULT_PARAMS",
    "INDICATOR_ALIASES",
    "INDICATOR_NAMES",
    "IndicatorParams",
    "Levels",
    "PatternHit",
    "Signal",
    "Summary",
    "TechnicalEngine",
    "TechnicalReport",
    "indicator_frame",
    "resolve_groups",
]
