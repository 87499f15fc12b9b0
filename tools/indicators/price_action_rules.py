"""Price-action rules: RSI divergences at recent swings, and candlestick patterns on the
latest bar. Both give no signal at all when there is nothing to report."""

from __future__ import annotations

import math
from typing import Any

from tools.indicators.context import SignalContext, fmt_num
from tools.indicators.levels import swing_indices
from tools.indicators.models import Signal


def _signal(**fields: Any) -> Signal:
    return Signal(family="price_action", **fields)


def divergence_rule(ctx: SignalContext) -> Signal | None:
    """RSI divergence between the last two confirmed close swings in the recent window.

    Bullish: a lower low in price with a higher RSI low; bearish: the mirror on highs. Only a
    divergence whose second swing is recent counts, so stale ones do not drive the stance.
    """
    p = ctx.params
    rsi = ctx.series.get(f"rsi_{p.rsi_period}")
    if rsi is None:
        return None
    n = ctx.bars.n
    start = max(0, n - p.divergence_lookback)
    close, window_rsi = ctx.bars.close[start:], rsi[start:]
    freshest = n - 1 - (p.divergence_swing + p.divergence_recent)
    found: list[tuple[int, Signal]] = []
    for highs in (False, True):
        swings = swing_indices(close, p.divergence_swing, highs=highs)
        pivots = [int(i) for i in swings if math.isfinite(window_rsi[i])]
        if len(pivots) < 2 or start + pivots[-1] < freshest:
            continue
        i1, i2 = pivots[-2], pivots[-1]
        c1, c2 = float(close[i1]), float(close[i2])
        r1, r2 = float(window_rsi[i1]), float(window_rsi[i2])
        d1, d2 = ctx.label_time(start + i1), ctx.label_time(start + i2)
        prices = f"({fmt_num(c2)} on {d2} vs {fmt_num(c1)} on {d1})"
        rsis = f"({r2:.1f} vs {r1:.1f})"
        gap = p.divergence_min_rsi_gap
        if not highs and c2 < c1 and r2 > r1 + gap:
            reason = (
                f"Bullish RSI divergence: price made a lower low {prices} "
                f"while RSI made a higher low {rsis}"
            )
            signal = _signal(name="rsi_divergence", action="buy", value=r2, reason=reason, date=d2)
            found.append((i2, signal))
        if highs and c2 > c1 and r2 < r1 - gap:
            reason = (
                f"Bearish RSI divergence: price made a higher high {prices} "
                f"while RSI made a lower high {rsis}"
            )
            signal = _signal(name="rsi_divergence", action="sell", value=r2, reason=reason, date=d2)
            found.append((i2, signal))
    if not found:
        return None
    return max(found, key=lambda item: item[0])[1]


def pattern_rule(ctx: SignalContext) -> Signal | None:
    """Votes with the majority direction of the patterns that fired on the latest bar."""
    fired = [hit for hit in ctx.patterns if hit.fired_latest]
    if not fired:
        return None
    by_kind = {
        kind: [h.label.lower() for h in fired if h.direction == direction]
        for kind, direction in (
            ("bullish", "bullish"),
            ("bearish", "bearish"),
            ("indecision", "neutral"),
        )
    }
    parts = [f"{kind}: {', '.join(names)}" for kind, names in by_kind.items() if names]
    reason = "Candlestick patterns on the latest bar (" + "; ".join(parts) + ")"
    bullish, bearish = len(by_kind["bullish"]), len(by_kind["bearish"])
    action = "buy" if bullish > bearish else "sell" if bearish > bullish else "hold"
    return _signal(name="candlestick", action=action, reason=reason)
