"""Oscillator rules: RSI, stochastic, Williams %R, CCI and MFI zones, and Bollinger touches.

These are mean-reversion readings (oversold buys, overbought sells), all in the "oscillator"
family so together they weigh as much as the trend rules, not five times as much.
"""

from __future__ import annotations

from typing import Any

from tools.indicators.context import SignalContext, fmt_num
from tools.indicators.models import Signal


def _signal(**fields: Any) -> Signal:
    return Signal(family="oscillator", **fields)


def _zone(
    name: str, label: str, value: float | None, low: float, high: float, what: str = ""
) -> Signal | None:
    """Below `low` buys (oversold), above `high` sells (overbought), otherwise holds."""
    if value is None:
        return None
    shown = f"{label} {value:.1f}"
    if value < low:
        reason = f"{shown} is below {low:g}: oversold{what}"
        return _signal(name=name, action="buy", value=value, reason=reason)
    if value > high:
        reason = f"{shown} is above {high:g}: overbought{what}"
        return _signal(name=name, action="sell", value=value, reason=reason)
    reason = f"{shown} is between {low:g} and {high:g}"
    return _signal(name=name, action="hold", value=value, reason=reason)


def rsi_rule(ctx: SignalContext) -> Signal | None:
    p = ctx.params
    return _zone("rsi", "RSI", ctx.last(f"rsi_{p.rsi_period}"), p.rsi_oversold, p.rsi_overbought)


def williams_rule(ctx: SignalContext) -> Signal | None:
    p = ctx.params
    value = ctx.last(f"willr_{p.willr_period}")
    return _zone("williams_r", "Williams %R", value, p.willr_oversold, p.willr_overbought)


def cci_rule(ctx: SignalContext) -> Signal | None:
    p = ctx.params
    value = ctx.last(f"cci_{p.cci_period}")
    return _zone("cci", "CCI", value, -p.cci_extreme, p.cci_extreme)


def mfi_rule(ctx: SignalContext) -> Signal | None:
    p = ctx.params
    value = ctx.last(f"mfi_{p.mfi_period}")
    return _zone("mfi", "MFI", value, p.mfi_oversold, p.mfi_overbought, " on volume-weighted flow")


def stochastic_rule(ctx: SignalContext) -> Signal | None:
    """Oversold/overbought only when %K and %D agree."""
    k, d, p = ctx.last("stoch_k"), ctx.last("stoch_d"), ctx.params
    if k is None or d is None:
        return None
    shown = f"Stochastic %K {k:.1f} / %D {d:.1f}"
    if k < p.stoch_oversold and d < p.stoch_oversold:
        reason = f"{shown} are both below {p.stoch_oversold:g}: oversold"
        return _signal(name="stochastic", action="buy", value=k, reason=reason)
    if k > p.stoch_overbought and d > p.stoch_overbought:
        reason = f"{shown} are both above {p.stoch_overbought:g}: overbought"
        return _signal(name="stochastic", action="sell", value=k, reason=reason)
    reason = f"{shown}: not both beyond {p.stoch_oversold:g}/{p.stoch_overbought:g}"
    return _signal(name="stochastic", action="hold", value=k, reason=reason)


def bollinger_rule(ctx: SignalContext) -> Signal | None:
    """A bar reaching the lower band buys, the upper band sells; both or neither holds."""
    upper, lower, pct = ctx.last("bb_upper"), ctx.last("bb_lower"), ctx.last("bb_percent_b")
    if upper is None or lower is None:
        return None
    close, high, low = ctx.close, float(ctx.bars.high[-1]), float(ctx.bars.low[-1])
    shown = f" (%B {pct:.2f})" if pct is not None else ""
    touch_low, touch_high = low <= lower, high >= upper
    if touch_low and not touch_high:
        reason = (
            f"Price touched the lower Bollinger band {fmt_num(lower)} (low {fmt_num(low)}, "
            f"close {fmt_num(close)}){shown}: stretched to the downside"
        )
        return _signal(name="bollinger", action="buy", value=pct, reason=reason)
    if touch_high and not touch_low:
        reason = (
            f"Price touched the upper Bollinger band {fmt_num(upper)} (high {fmt_num(high)}, "
            f"close {fmt_num(close)}){shown}: stretched to the upside"
        )
        return _signal(name="bollinger", action="sell", value=pct, reason=reason)
    bands = f"{fmt_num(lower)}-{fmt_num(upper)}"
    if touch_low and touch_high:
        reason = f"The latest bar spanned both Bollinger bands {bands}{shown}: no direction"
    else:
        reason = f"Close {fmt_num(close)} is inside the Bollinger bands {bands}{shown}"
    return _signal(name="bollinger", action="hold", value=pct, reason=reason)
