"""Backtests of the technical engine's rules: bars in, an event study and a strategy out.

Every figure is point in time: the bars are cut at `end` (the `as_of` rule) before anything is
computed, signals at a close read bars up to it only, entries are at the next open and no
forward return reaches past the last bar kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache

import numpy as np
import pandas as pd

from tools.backtest.events import MIN_EVENTS, event_stats
from tools.backtest.models import BacktestReport, RuleRecord, TrackRecord
from tools.backtest.rules import RULE_NAMES, STANCE, rule_actions
from tools.backtest.strategy import backtest_strategy
from tools.errors import InsufficientDataError, ToolError, UnknownRuleError
from tools.indicators.bars import AsOf, BarArrays, prepare_bars, utc_day_start
from tools.indicators.engine import TechnicalEngine
from tools.indicators.params import DEFAULT_PARAMS, IndicatorParams

HORIZONS: tuple[int, ...] = (1, 7, 30)
TRACK_HORIZON = 7

# What people call the rules -> (rule, side the words point at, or None for both)
RULE_ALIASES: dict[str, tuple[str, str | None]] = {
    "golden_cross": ("ma_cross", "buy"),
    "death_cross": ("ma_cross", "sell"),
    "moving_average_cross": ("ma_cross", None),
    "ma_crossover": ("ma_cross", None),
    "sma_cross": ("ma_cross", None),
    "macd_cross": ("macd", None),
    "macd_crossover": ("macd", None),
    "rsi_oversold": ("rsi", "buy"),
    "rsi_overbought": ("rsi", "sell"),
    "oversold": ("rsi", "buy"),
    "overbought": ("rsi", "sell"),
    "bbands": ("bollinger", None),
    "bollinger_bands": ("bollinger", None),
    "bb": ("bollinger", None),
    "stoch": ("stochastic", None),
    "williams": ("williams_r", None),
    "willr": ("williams_r", None),
    "psar": ("sar", None),
    "parabolic_sar": ("sar", None),
    "dmi": ("adx", None),
    "moving_averages": ("trend", None),
    "divergence": ("rsi_divergence", None),
    "candles": ("candlestick", None),
    "candlesticks": ("candlestick", None),
    "patterns": ("candlestick", None),
    "summary": (STANCE, None),
    "overall": (STANCE, None),
}


def resolve_rule(text: str) -> tuple[str, str | None]:
    """The rule a name means, and the side it names ("death cross" is the sell side of
    `ma_cross`); raises `UnknownRuleError` listing the valid names."""
    key = "_".join(str(text).strip().lower().replace("-", " ").split())
    if key in RULE_NAMES:
        return key, None
    if key in RULE_ALIASES:
        return RULE_ALIASES[key]
    raise UnknownRuleError(str(text), [*RULE_NAMES, *RULE_ALIASES])


@lru_cache(maxsize=64)
def _warm_up(params: IndicatorParams) -> int:
    """Bars before every indicator of the panel is defined (200 with the defaults)."""
    return TechnicalEngine.required_history(params=params)


def _cut(bars: pd.DataFrame, end: AsOf, interval: str) -> BarArrays:
    data = prepare_bars(bars, end, interval)
    if data.n < 3:
        raise InsufficientDataError(f"only {data.n} {interval} bar(s): a backtest needs more")
    return data


def _first_bar(
    data: BarArrays, start: date | datetime | str | None, warm_up: int, notes: list[str]
) -> int:
    """The first bar of the period: `start`, but not inside the indicators' warm-up."""
    first = min(warm_up, data.n - 2)
    if first < warm_up:
        notes.append(
            f"only {data.n} bars: the indicators need {warm_up} to warm up, so early readings "
            "are missing or unsettled"
        )
    if start is not None:
        moment = utc_day_start(start) if not isinstance(start, datetime) else pd.Timestamp(start)
        if moment.tzinfo is None:
            moment = moment.tz_localize("UTC")
        asked = int(data.index.searchsorted(moment, side="left"))
        if asked >= data.n - 1:
            raise InsufficientDataError("the period starts after the last bar")
        if asked < first:
            notes.append(
                f"the period starts at {data.index[first]:%Y-%m-%d}, after the {warm_up} bars "
                "the indicators need to warm up"
            )
        first = max(first, asked)
    return first


def _period(data: BarArrays, first: int) -> np.ndarray:
    mask = np.zeros(data.n, dtype=bool)
    mask[first:] = True
    return mask


def _reading(value: float) -> str | None:
    if not np.isfinite(value):
        return None
    return "buy" if value > 0 else "sell" if value < 0 else "hold"


def study(
    action: np.ndarray,
    open_: np.ndarray,
    rule: str,
    period: np.ndarray,
    horizons: Sequence[int] = HORIZONS,
    min_events: int = MIN_EVENTS,
) -> RuleRecord:
    """The event study of one rule's actions at each horizon (buy and sell onsets)."""
    return RuleRecord(
        rule=rule,
        buy=[event_stats(action, open_, 1, h, period, min_events=min_events) for h in horizons],
        sell=[event_stats(action, open_, -1, h, period, min_events=min_events) for h in horizons],
    )


def backtest(
    bars: pd.DataFrame,
    *,
    symbol: str,
    rule: str,
    interval: str = "1d",
    start: date | datetime | str | None = None,
    end: AsOf = None,
    horizons: Sequence[int] = HORIZONS,
    fee_bps: float = 10.0,
    slippage_bps: float = 5.0,
    params: IndicatorParams | None = None,
    min_events: int = MIN_EVENTS,
) -> BacktestReport:
    """The event study and strategy backtest of `rule` (a name or alias, or "stance")."""
    if interval not in ("1d", "1h"):
        raise ToolError(f"unsupported interval {interval!r}; use 1d or 1h")
    name, _ = resolve_rule(rule)
    settings = params or DEFAULT_PARAMS
    data = _cut(bars, end, interval)
    notes: list[str] = []
    first = _first_bar(data, start, _warm_up(settings), notes)
    actions = rule_actions(data, settings)
    period = _period(data, first)
    record = study(actions.actions[name], data.open, name, period, horizons, min_events)
    strategy = backtest_strategy(
        actions.actions[name],
        data.open,
        data.close,
        data.index,
        first,
        data.n - 1,
        interval=interval,
        fee_bps=fee_bps,
        slippage_bps=slippage_bps,
    )
    return BacktestReport(
        symbol=symbol,
        interval=interval,  # type: ignore[arg-type]
        rule=name,
        start=data.index[first].to_pydatetime(),
        end=data.index[-1].to_pydatetime(),
        bars=data.n - first,
        current=_reading(float(actions.actions[name][-1])),  # type: ignore[arg-type]
        events=record,
        strategy=strategy,
        notes=notes,
    )


def event_table(
    bars: pd.DataFrame,
    *,
    interval: str = "1d",
    start: date | datetime | str | None = None,
    end: AsOf = None,
    horizons: Sequence[int] = HORIZONS,
    params: IndicatorParams | None = None,
    min_events: int = MIN_EVENTS,
) -> dict[str, RuleRecord]:
    """The event study of every rule and the stance, from one pass over the bars."""
    settings = params or DEFAULT_PARAMS
    data = _cut(bars, end, interval)
    first = _first_bar(data, start, _warm_up(settings), [])
    actions = rule_actions(data, settings)
    period = _period(data, first)
    return {
        name: study(actions.actions[name], data.open, name, period, horizons, min_events)
        for name in RULE_NAMES
    }


def track_records(
    bars: pd.DataFrame,
    *,
    interval: str = "1d",
    as_of: AsOf = None,
    horizon: int = TRACK_HORIZON,
    params: IndicatorParams | None = None,
) -> dict[str, dict[str, TrackRecord]]:
    """Per rule and side, the history of its onsets up to `as_of` at one horizon (the figures a
    `/technical` signal carries); only forward windows complete by `as_of` are counted."""
    settings = params or DEFAULT_PARAMS
    data = _cut(bars, as_of, interval)
    first = _first_bar(data, None, _warm_up(settings), [])
    actions = rule_actions(data, settings)
    period = _period(data, first)
    since = data.index[first].strftime("%Y-%m-%d")
    out: dict[str, dict[str, TrackRecord]] = {}
    for name in RULE_NAMES:
        action = actions.actions[name]
        out[name] = {}
        for side, sign in (("buy", 1), ("sell", -1)):
            stats = event_stats(action, data.open, sign, horizon, period)
            fields = stats.model_dump(exclude={"days", "median_return", "ci_low", "ci_high"})
            out[name][side] = TrackRecord(**fields, since=since)
    return out
