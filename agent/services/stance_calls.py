"""The assistant's own buy/sell calls (the technical stances served, from the stance ledger)
against what the coin did: the `calls` section of `forecast_accuracy` and `/model-metrics`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from knowledge.models.stance_ledger import HORIZONS, StanceLedger

__all__ = ["StanceLedger", "stance_calls"]


def stance_calls(
    ledger: StanceLedger,
    symbol: str,
    period_days: int,
    *,
    interval: str = "1d",
    now: datetime | None = None,
    latest: int = 3,
) -> dict[str, Any]:
    """Calls on bars of the last `period_days`: per side the calls, how many were scored at 1,
    7 and 30 days, the hit rate and mean forward return; the coin's base rate over the same
    days; the latest calls. Scores what can be scored first."""
    instant = now or datetime.now(UTC)
    ledger.score(symbol, now=instant)
    since = instant - timedelta(days=period_days)
    sides = ledger.sides(symbol, interval, since)
    return {
        "interval": interval,
        "since": since.date().isoformat(),
        "horizons_days": list(HORIZONS),
        "served": sum(side["calls"] for side in sides.values()),
        "scored": sum(side["horizons"]["1"]["n"] for side in sides.values()),
        "pending": ledger.pending(symbol, interval),
        "sides": sides,
        "base": ledger.base_rates(symbol, since, instant),
        "latest": ledger.latest(symbol, interval, latest),
    }
