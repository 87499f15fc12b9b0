"""Backtests of the technical engine's rules and stance: point-in-time event studies (what
followed each past signal, against all days) and long/flat and long/short strategies net of
costs against buy-and-hold. Pure functions of an OHLCV frame; no database.

    report = backtest(bars, symbol="SOL-USD", rule="macd", start="2018-01-01")
"""

from tools.backtest.engine import (
    HORIZONS,
    RULE_ALIASES,
    TRACK_HORIZON,
    backtest,
    event_table,
    resolve_rule,
    track_records,
)
from tools.backtest.events import MIN_EVENTS
from tools.backtest.models import (
    BacktestReport,
    EquityPoint,
    EventStats,
    RuleRecord,
    StrategyReport,
    StrategyStats,
    TrackRecord,
)
from tools.backtest.rules import RULE_FAMILIES, RULE_LABELS, RULE_NAMES, STANCE, rule_actions

__all__ = [
    "HORIZONS",
    "MIN_EVENTS",
    "RULE_ALIASES",
    "RULE_FAMILIES",
    "RULE_LABELS",
    "RULE_NAMES",
    "STANCE",
    "TRACK_HORIZON",
    "BacktestReport",
    "EquityPoint",
    "EventStats",
    "RuleRecord",
    "StrategyReport",
    "StrategyStats",
    "TrackRecord",
    "backtest",
    "event_table",
    "resolve_rule",
    "rule_actions",
    "track_records",
]
