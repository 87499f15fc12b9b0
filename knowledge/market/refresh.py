"""Incremental refresh from a provider: fetch since the last stored bar, upsert, record the outcome.

When the provider fails after its retries, nothing is written, the failure is recorded and the
stored bars keep being served, marked stale.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import pandas as pd

from knowledge.errors import ProviderError
from knowledge.market.repository import Interval, PriceRepository

log = logging.getLogger(__name__)


class MarketDataProvider(Protocol):
    """A source of OHLCV bars (UTC index named ts; columns open, high, low, close, volume)."""

    name: str

    def fetch(
        self,
        symbol: str,
        interval: Interval,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame: ...


@dataclass(frozen=True)
class RefreshResult:
    """Outcome for one symbol and interval; `ok=False` means stored data is now stale."""

    symbol: str
    interval: str
    ok: bool
    fetched: int
    written: int
    since: datetime | None
    message: str


def refresh_symbol(
    repo: PriceRepository, provider: MarketDataProvider, symbol: str, interval: Interval = "1d"
) -> RefreshResult:
    """Fetch bars from the last stored one (inclusive, so a partial bar is completed)."""
    since = repo.last_timestamp(symbol, interval)
    now = datetime.now(UTC)
    try:
        bars = provider.fetch(symbol, interval, start=since)
    except ProviderError as exc:
        repo.record_sync(symbol, interval, provider.name, False, str(exc), now)
        log.warning("refresh of %s %s failed; serving stored data: %s", symbol, interval, exc)
        return RefreshResult(symbol, interval, False, 0, 0, since, str(exc))
    if bars.empty:
        message = "no new bars"
        written = 0
    else:
        written = repo.upsert(symbol, interval, bars, source=provider.name).written
        message = f"{len(bars)} bar(s) fetched, {written} new or changed"
    repo.record_sync(symbol, interval, provider.name, True, message, now)
    return RefreshResult(symbol, interval, True, len(bars), written, since, message)
