"""Trend rules: price vs the moving averages, golden/death cross, ADX strength, MACD and SAR.

Each returns a `Signal` in the "trend" family, or None when its indicator is missing.
"""

from __future__ import annotations

from typing import Any

from tools.indicators.context import SignalContext, fmt_num, last_cross
from tools.indicators.models import Action, Signal


def _signal(**fields: Any) -> Signal:
    return Signal(family="trend", **fields)


def trend_rule(ctx: SignalContext) -> Signal | None:
    """Close above both SMAs (fast above slow) is an uptrend; the mirror a downtrend."""
    p = ctx.params
    fast, slow = ctx.last(f"sma_{p.trend_fast}"), ctx.last(f"sma_{p.trend_slow}")
    if fast is None or slow is None:
        return None
    close = ctx.close
    shown = (
        f"Close {fmt_num(close)}, SMA{p.trend_fast} {fmt_num(fast)}, "
        f"SMA{p.trend_slow} {fmt_num(slow)}"
    )
    if close > fast > slow:
        reason = f"{shown}: price above both averages, uptrend"
        return _signal(name="trend", action="buy", value=close, reason=reason)
    if close < fast < slow:
        reason = f"{shown}: price below both averages, downtrend"
        return _signal(name="trend", action="sell", value=close, reason=reason)
    return _signal(
        name="trend", action="hold", value=close, reason=f"{shown}: mixed, no clear trend"
    )


def ma_cross_rule(ctx: SignalContext) -> Signal | None:
    """The latest golden (fast SMA up through slow) or death cross, with its date."""
    p = ctx.params
    fast_key, slow_key = f"sma_{p.trend_fast}", f"sma_{p.trend_slow}"
    if ctx.last(fast_key) is None or ctx.last(slow_key) is None:
        return None
    fast, slow = f"SMA{p.trend_fast}", f"SMA{p.trend_slow}"
    cross = last_cross(ctx.series[fast_key], ctx.series[slow_key])
    if cross is None:
        side = "above" if ctx.series[fast_key][-1] > ctx.series[slow_key][-1] else "below"
        reason = f"No golden or death cross in the data: {fast} has stayed {side} {slow}"
        return _signal(name="ma_cross", action="hold", reason=reason)
    index, up = cross
    date = ctx.label_time(index)
    if up:
        reason = f"Golden cross: {fast} crossed above {slow} on {date} ({ctx.ago(index)})"
    else:
        reason = f"Death cross: {fast} crossed below {slow} on {date} ({ctx.ago(index)})"
    return _signal(name="ma_cross", action="buy" if up else "sell", reason=reason, date=date)


def adx_rule(ctx: SignalContext) -> Signal | None:
    """A strong ADX votes with the dominant directional index; a weak one holds."""
    p = ctx.params
    adx, plus, minus = ctx.last(f"adx_{p.adx_period}"), ctx.last("plus_di"), ctx.last("minus_di")
    if adx is None or plus is None or minus is None:
        return None
    di = f"+DI {plus:.1f} vs -DI {minus:.1f}"
    if adx >= p.adx_trending and plus != minus:
        up = plus > minus
        reason = (
            f"ADX {adx:.1f} is at or above {p.adx_trending:g} with {di}: "
            f"strong {'up' if up else 'down'}trend"
        )
        return _signal(name="adx", action="buy" if up else "sell", value=adx, reason=reason)
    if adx < p.adx_weak:
        reason = f"ADX {adx:.1f} is below {p.adx_weak:g} ({di}): weak or no trend"
    else:
        reason = (
            f"ADX {adx:.1f} is between {p.adx_weak:g} and {p.adx_trending:g} ({di}): "
            "trend not confirmed"
        )
    return _signal(name="adx", action="hold", value=adx, reason=reason)


def macd_rule(ctx: SignalContext) -> Signal | None:
    """MACD above its signal line buys, below sells; the reason dates the latest crossover."""
    line, signal, hist = ctx.last("macd"), ctx.last("macd_signal"), ctx.last("macd_hist")
    if line is None or signal is None or hist is None:
        return None
    cross = last_cross(ctx.series["macd"], ctx.series["macd_signal"])
    when, date = "", None
    if cross is not None:
        date = ctx.label_time(cross[0])
        kind = "bullish" if cross[1] else "bearish"
        when = f"; latest {kind} crossover on {date} ({ctx.ago(cross[0])})"
    side = "above" if line > signal else "below" if line < signal else "on"
    action: Action = "buy" if line > signal else "sell" if line < signal else "hold"
    reason = (
        f"MACD {fmt_num(line)} is {side} its signal line {fmt_num(signal)} "
        f"(histogram {fmt_num(hist, signed=True)}){when}"
    )
    return _signal(name="macd", action=action, value=hist, reason=reason, date=date)


def sar_rule(ctx: SignalContext) -> Signal | None:
    """Close above the Parabolic SAR is an uptrend, below a downtrend, dated from the flip."""
    sar = ctx.last("sar")
    if sar is None:
        return None
    close = ctx.close
    flip = last_cross(ctx.bars.close, ctx.series["sar"])
    since, date = "", None
    if flip is not None:
        date = ctx.label_time(flip[0])
        since = f" since {date}"
    shown = f"Close {fmt_num(close)} is"
    if close > sar:
        reason = f"{shown} above the Parabolic SAR {fmt_num(sar)}{since}: uptrend"
        return _signal(name="sar", action="buy", value=sar, reason=reason, date=date)
    if close < sar:
        reason = f"{shown} below the Parabolic SAR {fmt_num(sar)}{since}: downtrend"
        return _signal(name="sar", action="sell", value=sar, reason=reason, date=date)
    return _signal(name="sar", action="hold", value=sar, reason="Close equals the Parabolic SAR")
