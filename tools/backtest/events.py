"""Event studies: what followed each past occurrence of a signal, against all days.

An occurrence of a buy (sell) is a bar where the rule turned to buy (sell) from another defined
reading. Entry is the next bar's open; the forward return over h bars runs to the open h bars
later, so every price used lies after the signal and at or before the last bar given. The base
rate is the same forward return over every bar of the period. Overlapping windows make daily
returns dependent and signals come in clusters, so an iid test would overstate the evidence:
the edge is judged against the same events shifted in time by random offsets (a randomisation
test that keeps both), which gives its interval, a t-like ratio and a p-value.
"""

from __future__ import annotations

import math

import numpy as np

from tools.backtest.models import EventStats, Side

#: Fewer occurrences than this gives "not enough history" instead of figures.
MIN_EVENTS = 10
#: Two-sided level of the test and the interval.
ALPHA = 0.05
#: Shifted copies of the events drawn for the null distribution (seeded: reproducible).
DRAWS = 999
SEED = 20_180_101


def forward_returns(open_: np.ndarray, horizon: int) -> np.ndarray:
    """Return from the open after bar t to the open `horizon` bars later (NaN past the end)."""
    n = len(open_)
    out = np.full(n, np.nan)
    if n > horizon + 1:
        out[: n - horizon - 1] = open_[1 + horizon :] / open_[1 : n - horizon] - 1.0
    return out


def onsets(action: np.ndarray, side: int) -> np.ndarray:
    """Bars where the action turned to `side` (+1 or -1) from another defined action."""
    now = action == side
    before = np.zeros(len(action), dtype=bool)
    before[1:] = np.isfinite(action[:-1]) & (action[:-1] != side)
    return now & before


def shifted_edges(base: np.ndarray, events: np.ndarray, horizon: int, draws: int) -> np.ndarray:
    """The edge (event mean minus all-days mean) of the same event pattern shifted circularly
    by random offsets: what the edge looks like when the signal carries no information, with
    the clustering of the events and the overlap of the returns kept."""
    n = len(base)
    low, high = horizon + 1, n - horizon - 1
    if high <= low:
        return np.empty(0)
    offsets = np.random.default_rng(SEED).integers(low, high, size=draws)
    # the sum of `base` over the events shifted by k, for every k at once (a circular
    # cross-correlation by FFT: O(n log n) instead of draws x events look-ups)
    spectrum = np.conj(np.fft.rfft(events.astype(np.float64))) * np.fft.rfft(base)
    sums = np.fft.irfft(spectrum, n)
    return sums[offsets] / int(events.sum()) - base.mean()


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def event_stats(
    action: np.ndarray,
    open_: np.ndarray,
    side: int,
    horizon: int,
    period: np.ndarray,
    *,
    min_events: int = MIN_EVENTS,
) -> EventStats:
    """The forward returns after each onset of `side` within `period` (a bar mask) against the
    base rate over the same bars. Onsets whose forward window is not complete are not counted."""
    forward = forward_returns(open_, horizon)
    usable = period & np.isfinite(forward)
    events = onsets(action, side) & usable
    n = int(events.sum())
    base = forward[usable]
    direction: Side = "buy" if side > 0 else "sell"
    if n < min_events or n == len(base):
        return EventStats(side=direction, horizon=horizon, n=n, enough=False, days=len(base))
    chosen = forward[events]
    wins = chosen > 0 if side > 0 else chosen < 0
    base_wins = base > 0 if side > 0 else base < 0
    edge = float(chosen.mean() - base.mean())
    null = shifted_edges(base, events[usable], horizon, DRAWS)
    if null.size == 0:
        return EventStats(side=direction, horizon=horizon, n=n, enough=False, days=len(base))
    low, high = np.quantile(null, [ALPHA / 2, 1 - ALPHA / 2])
    spread = float(np.std(null))
    p_value = (1 + int(np.sum(np.abs(null) >= abs(edge)))) / (len(null) + 1)
    return EventStats(
        side=direction,
        horizon=horizon,
        n=n,
        enough=True,
        days=len(base),
        hit_rate=float(wins.mean()),
        base_hit_rate=float(base_wins.mean()),
        mean_return=float(chosen.mean()),
        median_return=float(np.median(chosen)),
        base_mean_return=float(base.mean()),
        edge=edge,
        ci_low=edge - float(high),
        ci_high=edge - float(low),
        t_stat=_finite(edge / spread) if spread > 0 else None,
        p_value=p_value,
        significant=p_value < ALPHA,
        favourable=bool(edge > 0 if side > 0 else edge < 0),
    )
