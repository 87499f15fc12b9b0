"""Sends the technical stances served live to the stance ledger, cheaply and without ever
failing a request.

A report is known by its cache key (symbol, interval, bound, parameters, data generation): the
first serve of a key in this process works out its call (one decode, and for a pinned `as_of`
one look-up of the latest stored bar) and writes it at once; later serves only count, and the
counts go to the ledger in one upsert at most every `flush_seconds` (0: every serve writes). A
failed write is logged, its counts are kept and retried after `retry_seconds`; serves counted
in the last period of a process that stops uncleanly are lost (the row itself is not).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import anyio

from knowledge.market.repository import PriceRepository
from knowledge.models.stance_ledger import StanceCall, StanceLedger

log = logging.getLogger(__name__)
_MAX_KEYS = 4096
_UNKNOWN = object()


def call_of(body: dict[str, Any]) -> StanceCall:
    """The call a technical report (its JSON form) makes."""
    as_of = datetime.fromisoformat(str(body["as_of"]).replace("Z", "+00:00"))
    summary = body["summary"]
    return StanceCall(
        symbol=body["symbol"],
        interval=body["interval"],
        as_of=as_of,
        stance=summary["stance"],
        score=float(summary["score"]),
        close=float(body["values"]["close"]),
    )


class StanceRecorder:
    """Counts each live default stance served and keeps the ledger up to date."""

    def __init__(
        self,
        ledger: StanceLedger,
        prices: PriceRepository,
        *,
        flush_seconds: float = 60.0,
        retry_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ledger = ledger
        self.prices = prices
        self.flush_seconds = flush_seconds
        self.retry_seconds = retry_seconds
        self.clock = clock
        self._calls: dict[str, StanceCall | None] = {}  # cache key -> its call (None: not live)
        self._pending: dict[tuple[str, str, datetime], tuple[StanceCall, int]] = {}
        self._written: set[tuple[str, str, datetime]] = set()
        self._next_flush = 0.0

    async def served(
        self, cache_key: str, body: Callable[[], dict[str, Any]], *, pinned: bool
    ) -> None:
        """Count one serve of the report under `cache_key` (`body` gives it, called once per
        key; `pinned`: the request named an `as_of`). Never raises."""
        try:
            call = self._calls.get(cache_key, _UNKNOWN)
            if call is _UNKNOWN:
                if len(self._calls) >= _MAX_KEYS:
                    self._calls.clear()
                self._calls[cache_key] = None  # a key whose call fails is not tried again
                call = self._calls[cache_key] = await self._live_call(body(), pinned)
            if not isinstance(call, StanceCall):
                return
            _, count = self._pending.get(call.key, (call, 0))
            self._pending[call.key] = (call, count + 1)
            if call.key not in self._written or self.clock() >= self._next_flush:
                await self.flush()
        except Exception:  # the ledger must never fail a request
            log.warning("stance not recorded for %s", cache_key, exc_info=True)

    async def _live_call(self, body: dict[str, Any], pinned: bool) -> StanceCall | None:
        """The report's call when it is live: no `as_of`, or one at/after the latest bar."""
        call = call_of(body)
        if pinned:
            latest = await anyio.to_thread.run_sync(
                self.prices.last_timestamp, call.symbol, call.interval
            )
            if latest is None or call.as_of < latest:
                return None
        return call

    async def flush(self) -> None:
        """Write the counted serves in one upsert; on failure keep them for a later retry."""
        batch, self._pending = self._pending, {}
        if not batch:
            return
        self._written.update(batch)
        if len(self._written) > _MAX_KEYS:
            self._written = set(batch)
        now = self.clock()
        self._next_flush = now + self.flush_seconds
        try:
            await anyio.to_thread.run_sync(self.ledger.record, list(batch.values()))
        except Exception:
            log.warning("stance ledger write failed; retrying later", exc_info=True)
            self._next_flush = now + max(self.flush_seconds, self.retry_seconds)
            for key, (call, count) in batch.items():
                _, more = self._pending.get(key, (call, 0))
                self._pending[key] = (call, count + more)
