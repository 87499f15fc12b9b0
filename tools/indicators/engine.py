"""Entry point of the technical-analysis engine: bars in, a point-in-time report out.

`TechnicalEngine.analyze` cuts the bars at `as_of` first and computes everything from that
prefix only, so a report for a past date is exactly what would have been seen on that date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from tools.errors import ToolError
from tools.indicators.bars import AsOf, BarArrays, prepare_bars
from tools.indicators.context import SignalContext
from tools.indicators.levels import compute_levels
from tools.indicators.models import Interval, PatternHit, TechnicalReport
from tools.indicators.panel import compute_panel, latest_values, panel_frame, required_bars
from tools.indicators.params import DEFAULT_PARAMS, IndicatorParams, resolve_groups
from tools.indicators.patterns import detect_patterns
from tools.indicators.signals import build_signals
from tools.indicators.summary import summarize

# interval -> (strftime format for event dates, unit word, bar spacing in seconds, adjective)
_INTERVALS: dict[str, tuple[str, str, int, str]] = {
    "1d": ("%Y-%m-%d", "day", 86_400, "daily"),
    "1h": ("%Y-%m-%d %H:%M UTC", "hour", 3_600, "hourly"),
}


_TICKS_PER_SECOND: dict[str, int] = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _time_labeller(index: pd.DatetimeIndex, fmt: str) -> Callable[[int], str]:
    """Format bar `i`'s UTC time; works on the raw integers (boxing Timestamps is slow)."""
    stamps = index.asi8
    per_second = _TICKS_PER_SECOND[index.unit]

    def label(i: int) -> str:
        seconds, ticks = divmod(int(stamps[i]), per_second)
        micros = ticks * 1_000_000 // per_second
        return (_EPOCH + timedelta(seconds=seconds, microseconds=micros)).strftime(fmt)

    return label


def _spacing_warning(bars: BarArrays, interval: str) -> str | None:
    """Warn when the bars do not look like the declared interval (e.g. hourly bars as 1d)."""
    if bars.n < 3:
        return None
    stamps = bars.index.asi8
    first = max(0, bars.n - 100)
    ticks = (int(stamps[-1]) - int(stamps[first])) / (bars.n - 1 - first)
    step = ticks / _TICKS_PER_SECOND[bars.index.unit]
    expected = _INTERVALS[interval][2]
    if 0.5 * expected <= step <= 2 * expected:
        return None
    hours = step / 3600
    return f"bars are about {hours:.4g} hours apart, which does not match interval {interval!r}"


def _history_warning(
    unavailable: dict[str, str], values: dict[str, float | None], n: int, adjective: str
) -> str | None:
    short = [key for key, reason in unavailable.items() if reason.startswith("needs ")]
    if not short:
        return None
    return (
        f"only {n} {adjective} bars available: {', '.join(short)} need more history"
        f" ({len(values) - len(unavailable)} of {len(values)} values computed)"
    )


class TechnicalEngine:
    """Stateless technical-analysis engine (TA-Lib panel, signals, levels, patterns).

    Safe to share between threads and requests; `params` sets the defaults for every call.
    """

    def __init__(self, params: IndicatorParams | None = None) -> None:
        self.params = params or DEFAULT_PARAMS

    def analyze(
        self,
        bars: pd.DataFrame,
        *,
        symbol: str,
        interval: Interval = "1d",
        as_of: AsOf = None,
        indicators: Iterable[str] | None = None,
        params: IndicatorParams | None = None,
    ) -> TechnicalReport:
        """Full report from the bars with index <= `as_of` (None = all bars).

        `as_of` may be a datetime/Timestamp (naive = UTC), an ISO string, or a date (or
        "YYYY-MM-DD"), which means the end of that UTC day. `indicators` selects groups from
        `INDICATOR_NAMES` (None = all); unknown names raise `UnknownIndicatorError`. Values too
        early to compute are `None`, with the reason in `unavailable`. Raises
        `InvalidBarsError` for a malformed frame and `InsufficientDataError` when no bar is
        at or before `as_of`.
        """
        if interval not in _INTERVALS:
            raise ToolError(f"unsupported interval {interval!r}; use one of {list(_INTERVALS)}")
        fmt, unit, _, adjective = _INTERVALS[interval]
        settings = params or self.params
        groups = resolve_groups(indicators)
        data = prepare_bars(bars, as_of, interval)
        label_time = _time_labeller(data.index, fmt)

        panel = compute_panel(data, groups, settings)
        values, unavailable = latest_values(panel, data)
        patterns: list[PatternHit] = []
        if "patterns" in groups:
            patterns = detect_patterns(data, settings.pattern_lookback, label_time)
        context = SignalContext(data, panel.series, settings, label_time, unit, patterns)
        signals = build_signals(context)

        warnings = [
            w
            for w in (
                _history_warning(unavailable, values, data.n, adjective),
                _spacing_warning(data, interval),
            )
            if w is not None
        ]
        return TechnicalReport(
            symbol=symbol,
            interval=interval,
            as_of=data.index[-1].to_pydatetime(),
            bars_used=data.n,
            values=values,
            unavailable=unavailable,
            signals=signals,
            summary=summarize(signals),
            levels=compute_levels(data, settings, label_time),
            patterns=patterns,
            warnings=warnings,
        )

    def indicator_frame(
        self,
        bars: pd.DataFrame,
        *,
        as_of: AsOf = None,
        interval: Interval = "1d",
        indicators: Iterable[str] | None = None,
        params: IndicatorParams | None = None,
    ) -> pd.DataFrame:
        """OHLCV plus every indicator series up to `as_of` (NaN during warm-up), for charts."""
        data = prepare_bars(bars, as_of, interval)
        panel = compute_panel(data, resolve_groups(indicators), params or self.params)
        return panel_frame(data, panel)

    @staticmethod
    def required_history(
        indicators: Iterable[str] | None = None, params: IndicatorParams | None = None
    ) -> int:
        """Bars needed before every value of the selected groups is defined (e.g. 200 for
        the default panel), so callers can load enough history."""
        settings = params or DEFAULT_PARAMS
        one = np.ones(1)
        probe = BarArrays(pd.DatetimeIndex(["2000-01-01"], tz="UTC"), one, one, one, one, one)
        panel = compute_panel(probe, resolve_groups(indicators), settings)
        return max((required_bars(spec) for spec in panel.specs.values()), default=1)


def indicator_frame(
    bars: pd.DataFrame,
    *,
    as_of: AsOf = None,
    interval: Interval = "1d",
    indicators: Iterable[str] | None = None,
    params: IndicatorParams | None = None,
) -> pd.DataFrame:
    """Module-level shortcut for `TechnicalEngine().indicator_frame(...)`."""
    return TechnicalEngine(params).indicator_frame(
        bars, as_of=as_of, interval=interval, indicators=indicators
    )
