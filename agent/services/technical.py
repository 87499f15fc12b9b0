"""Technical-analysis service: reads bars up to `as_of`, runs the indicator engine, caches reports."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import anyio

from agent.errors import no_data_error
from agent.services.stance_recorder import StanceRecorder
from knowledge.as_of import as_of_instant
from knowledge.cache import SafeCache
from knowledge.market.repository import Interval, PriceRepository
from knowledge.market.symbols import resolve
from knowledge.models.stance_ledger import StanceLedger
from tools.backtest import TRACK_HORIZON, track_records
from tools.errors import InsufficientDataError
from tools.indicators import IndicatorParams, TechnicalEngine, TechnicalReport, resolve_groups

__all__ = ["IndicatorParams", "TechnicalReport", "TechnicalService", "as_of_bound"]

# Enough history that every indicator has converged; a fixed window keeps a report for a given
# `as_of` reproducible whatever was stored before it.
HISTORY_BARS = 5000


def as_of_bound(as_of: date | datetime | None) -> datetime | None:
    """The UTC instant of `as_of` (a date: the end of that UTC day), or None for the latest."""
    return None if as_of is None else as_of_instant(as_of)


class TechnicalService:
    """The one way front-ends and agent tools get a technical report."""

    def __init__(
        self,
        prices: PriceRepository,
        cache: SafeCache,
        engine: TechnicalEngine | None = None,
        cache_ttl: int = 300,
        ledger: StanceLedger | None = None,
    ) -> None:
        self.prices = prices
        # live default stances served go to the stance ledger (none: not recorded)
        self.recorder = StanceRecorder(ledger, prices) if ledger is not None else None
        self._all_groups = resolve_groups(None)
        self.cache = cache
        self.engine = engine or TechnicalEngine()
        self.cache_ttl = cache_ttl
        self._default_prints: dict[tuple[str, ...], tuple[IndicatorParams, str]] = {}

    async def report(
        self,
        symbol_text: str,
        *,
        interval: Interval = "1d",
        as_of: date | datetime | None = None,
        indicators: list[str] | None = None,
        params: IndicatorParams | None = None,
    ) -> dict[str, Any]:
        """The JSON report (values, signals, summary, levels, patterns) for one symbol."""
        symbol, groups, bound, settings, key = await self._request(
            symbol_text, interval, as_of, indicators, params
        )
        cached = await self.cache.get_json(key)
        if cached is not None:
            body = dict(cached)
        else:
            body = await anyio.to_thread.run_sync(
                self._report, symbol, interval, bound, groups, settings
            )
            await self.cache.set_json(key, body, self.cache_ttl)
        await self._served(key, lambda: body, as_of, groups, params)
        return body

    async def report_json(
        self,
        symbol_text: str,
        encode: Callable[[dict[str, Any]], bytes],
        *,
        interval: Interval = "1d",
        as_of: date | datetime | None = None,
        indicators: list[str] | None = None,
        params: IndicatorParams | None = None,
    ) -> bytes:
        """`report` as the bytes `encode` makes of it, cached as such (for the API: a warm
        answer is the stored bytes, with no decoding, validation or encoding again)."""
        symbol, groups, bound, settings, key = await self._request(
            symbol_text, interval, as_of, indicators, params
        )
        key += ":json"
        raw = await self.cache.get_bytes(key)
        if raw is None:
            body = await anyio.to_thread.run_sync(
                self._report, symbol, interval, bound, groups, settings
            )
            raw = encode(body)
            await self.cache.set_bytes(key, raw, self.cache_ttl)
        cached = raw
        await self._served(key[:-5], lambda: json.loads(cached), as_of, groups, params)
        return raw

    async def _served(
        self,
        key: str,
        body: Callable[[], dict[str, Any]],
        as_of: date | datetime | None,
        groups: tuple[str, ...],
        params: IndicatorParams | None,
    ) -> None:
        """Count a served report in the stance ledger when it is a default one (every indicator
        group, default parameters); the recorder keeps only live calls and never raises."""
        if self.recorder is not None and params is None and groups == self._all_groups:
            await self.recorder.served(key, body, pinned=as_of is not None)

    async def _request(
        self,
        symbol_text: str,
        interval: Interval,
        as_of: date | datetime | None,
        indicators: list[str] | None,
        params: IndicatorParams | None,
    ) -> tuple[str, tuple[str, ...], datetime | None, IndicatorParams, str]:
        """The symbol, indicator groups, bound, parameters and cache key of one request."""
        coin = resolve(symbol_text)
        groups = resolve_groups(indicators)  # unknown names fail before any work
        bound = as_of_bound(as_of)
        settings = params or self.engine.params
        gen = await self.cache.generation(f"{coin.symbol}:{interval}")
        fingerprint = self._fingerprint(groups, settings, default=params is None)
        when = bound.isoformat() if bound else "latest"
        key = f"ta:{coin.symbol}:{interval}:{when}:{fingerprint}:{gen}"
        return coin.symbol, groups, bound, settings, key

    def _fingerprint(
        self, groups: tuple[str, ...], settings: IndicatorParams, *, default: bool
    ) -> str:
        """A short hash of the groups and parameters (kept per groups for the default ones)."""
        if default:
            known = self._default_prints.get(groups)
            if known is not None and known[0] is settings:
                return known[1]
        fingerprint = hashlib.sha256(
            json.dumps([groups, settings.model_dump(mode="json")], sort_keys=True).encode()
        ).hexdigest()[:16]
        if default and len(self._default_prints) < 1024:
            self._default_prints[groups] = (settings, fingerprint)
        return fingerprint

    async def chart(
        self,
        symbol_text: str,
        *,
        interval: Interval = "1d",
        as_of: date | datetime | None = None,
        window: int = 180,
    ) -> Any:
        """A Plotly figure: candles with bands, averages and levels, volume, RSI and MACD panes."""
        coin = resolve(symbol_text)
        return await anyio.to_thread.run_sync(
            self._chart, coin.symbol, interval, as_of_bound(as_of), window
        )

    async def chart_png(
        self,
        symbol_text: str,
        *,
        interval: Interval = "1d",
        as_of: date | datetime | None = None,
        window: int = 180,
        width: int = 1200,
        height: int = 900,
    ) -> bytes:
        """The same chart as a PNG (for chats that show images, such as Telegram)."""
        from tools.charts import figure_to_png

        figure = await self.chart(symbol_text, interval=interval, as_of=as_of, window=window)
        return await anyio.to_thread.run_sync(lambda: figure_to_png(figure, width, height))

    def _chart(self, symbol: str, interval: Interval, bound: datetime | None, window: int) -> Any:
        from tools.charts import technical_figure

        bars = self.prices.read(symbol, interval, as_of=bound, limit=HISTORY_BARS)
        if bars.empty:
            raise no_data_error(symbol, interval, " to chart")
        report = self.engine.analyze(bars, symbol=symbol, interval=interval, as_of=bound)
        return technical_figure(
            bars, symbol=symbol, interval=interval, as_of=bound, window=window, report=report
        )

    def _report(
        self,
        symbol: str,
        interval: Interval,
        bound: datetime | None,
        groups: tuple[str, ...],
        params: IndicatorParams,
    ) -> dict[str, Any]:
        bars = self.prices.read(symbol, interval, as_of=bound, limit=HISTORY_BARS)
        if bars.empty:
            when = f" closed by {bound.isoformat()}" if bound else ""
            raise no_data_error(symbol, interval, when)
        report = self.engine.analyze(
            bars, symbol=symbol, interval=interval, as_of=bound, indicators=groups, params=params
        )
        body = report.model_dump(mode="json")
        return with_track_records(
            body, bars, interval, bound, params, full=groups == self._all_groups
        )


def with_track_records(
    body: dict[str, Any],
    bars: Any,
    interval: Interval,
    bound: datetime | None,
    params: IndicatorParams,
    *,
    full: bool = True,
) -> dict[str, Any]:
    """Each buy or sell signal (and, for a `full` report of every group, the stance) with the history of its past onsets up to
    the same `as_of` (`tools.backtest.track_records`); hold signals carry none."""
    try:
        horizon = TRACK_HORIZON * (24 if interval == "1h" else 1)  # a week either way
        records = track_records(
            bars, interval=interval, as_of=bound, horizon=horizon, params=params
        )
    except InsufficientDataError:
        return body
    for signal in body["signals"]:
        side = signal["action"]
        if side in ("buy", "sell") and signal["name"] in records:
            signal["track_record"] = records[signal["name"]][side].model_dump(mode="json")
    stance = body["summary"]["stance"]
    side = "buy" if "bullish" in stance else "sell" if "bearish" in stance else None
    if side is not None and full:  # a partial report's stance is not the one tested
        body["summary"]["track_record"] = records["stance"][side].model_dump(mode="json")
    return body
