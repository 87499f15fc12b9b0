"""Market-data service: the catalogue with coverage, cached history reads, imports, refreshes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import anyio

from agent.errors import InvalidRequestError, no_data_error
from knowledge.as_of import as_of_instant
from knowledge.cache import SafeCache
from knowledge.market.csv_files import ImportResult, csv_files_in, import_file
from knowledge.market.refresh import MarketDataProvider, RefreshResult, refresh_symbol
from knowledge.market.repository import Interval, PriceRepository
from knowledge.market.symbols import CATALOGUE, resolve, supported_symbols

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Freshness:
    """How current the stored bars are, and why they count as stale if they do."""

    last_bar: datetime | None
    age_hours: float | None
    stale: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "last_bar": self.last_bar.isoformat() if self.last_bar else None,
            "age_hours": round(self.age_hours, 1) if self.age_hours is not None else None,
            "stale": self.stale,
            "reason": self.reason,
        }


class MarketService:
    """The one way the front-ends reach market data."""

    def __init__(
        self,
        prices: PriceRepository,
        cache: SafeCache,
        provider: MarketDataProvider | None,
        *,
        cache_ttl: int = 300,
        stale_after_hours: float = 36.0,
    ) -> None:
        self.prices = prices
        self.cache = cache
        self.provider = provider
        self.cache_ttl = cache_ttl
        self.stale_after = timedelta(hours=stale_after_hours)

    def cryptocurrencies(self) -> list[dict[str, Any]]:
        """Every supported coin with the daily range stored for it (zero rows when none)."""
        stored = {c.symbol: c for c in self.prices.coverage() if c.interval == "1d"}
        out = []
        for coin in CATALOGUE:
            cov = stored.get(coin.symbol)
            out.append(
                {
                    "symbol": coin.symbol,
                    "name": coin.name,
                    "first_date": cov.first.date().isoformat() if cov else None,
                    "last_date": cov.last.date().isoformat() if cov else None,
                    "rows": cov.rows if cov else 0,
                    "model_version": None,
                }
            )
        return out

    def freshness(
        self, symbol: str, interval: str, now: datetime | None = None, conn: Any = None
    ) -> Freshness:
        """Stale when the last refresh failed or the newest bar is older than the threshold."""
        now = now or datetime.now(UTC)
        last = self.prices.last_timestamp(symbol, interval, conn)
        if last is None:
            return Freshness(None, None, True, "no data stored")
        age = now - last
        sync = self.prices.sync_states(conn).get((symbol, interval))
        if sync is not None and not sync.ok:
            return Freshness(
                last, age.total_seconds() / 3600, True, f"refresh failed: {sync.message}"
            )
        if age > self.stale_after:
            return Freshness(
                last,
                age.total_seconds() / 3600,
                True,
                f"newest bar is older than {self.stale_after.total_seconds() / 3600:g} h",
            )
        return Freshness(last, age.total_seconds() / 3600, False, "fresh")

    async def historical(
        self, symbol_text: str, start: date | None, end: date | None, interval: str = "1d"
    ) -> dict[str, Any]:
        """Stored bars for a symbol and date range (cached; the key carries a data generation)."""
        symbol, key = await self._historical_key(symbol_text, start, end, interval)
        cached = await self.cache.get_json(key)
        if cached is not None:
            return dict(cached)
        body = await anyio.to_thread.run_sync(self._historical, symbol, start, end, interval)
        await self.cache.set_json(key, body, self.cache_ttl)
        return body

    async def historical_json(
        self,
        symbol_text: str,
        start: date | None,
        end: date | None,
        interval: str,
        encode: Callable[[dict[str, Any]], bytes],
    ) -> bytes:
        """`historical` as the bytes `encode` makes of it, cached as such (for the API: a warm
        answer is the stored bytes, with no decoding, validation or encoding again)."""
        symbol, key = await self._historical_key(symbol_text, start, end, interval)
        key += ":json"
        raw = await self.cache.get_bytes(key)
        if raw is not None:
            return raw
        body = await anyio.to_thread.run_sync(self._historical, symbol, start, end, interval)
        raw = encode(body)
        await self.cache.set_bytes(key, raw, self.cache_ttl)
        return raw

    async def _historical_key(
        self, symbol_text: str, start: date | None, end: date | None, interval: str
    ) -> tuple[str, str]:
        """The symbol and the cache key of a history read (the key carries the generation)."""
        coin = resolve(symbol_text)
        if start and end and start > end:
            raise InvalidRequestError(f"start {start} is after end {end}")
        gen = await self.cache.generation(f"{coin.symbol}:{interval}")
        return coin.symbol, f"hist:{coin.symbol}:{interval}:{start}:{end}:{gen}"

    def _historical(
        self, symbol: str, start: date | None, end: date | None, interval: str
    ) -> dict[str, Any]:
        lo = datetime.combine(start, time.min, UTC) if start else None
        hi = datetime.combine(end, time.max, UTC) if end else None
        with self.prices.db.connection() as conn:
            bars = self.prices.read(symbol, interval, start=lo, end=hi, conn=conn)
            if bars.empty:
                raise no_data_error(symbol, interval, " in that range")
            sources = self.prices.sources(symbol, interval, lo, hi, conn)
            freshness = self.freshness(symbol, interval, conn=conn)
        fmt = "%Y-%m-%d" if interval == "1d" else "%Y-%m-%dT%H:%M:%SZ"
        rows = [
            {"date": ts.strftime(fmt), "open": o, "high": h, "low": lo_, "close": c, "volume": v}
            for ts, o, h, lo_, c, v in zip(
                bars.index, *(bars[k].to_numpy().tolist() for k in bars.columns), strict=True
            )
        ]
        return {
            "symbol": symbol,
            "interval": interval,
            "source": ",".join(sources),
            "freshness": freshness.as_dict(),
            "rows": rows,
        }

    async def price_summary(
        self,
        symbol_text: str,
        period_days: int = 1,
        interval: Interval = "1d",
        as_of: date | datetime | None = None,
    ) -> dict[str, Any]:
        """Last close and the change over `period_days`, with the range's high and low; `as_of`
        keeps the bars closed by then (a date: the end of that UTC day)."""
        coin = resolve(symbol_text)
        instant = None if as_of is None else as_of_instant(as_of)
        return await anyio.to_thread.run_sync(
            self._price_summary, coin.symbol, coin.name, period_days, interval, instant
        )

    def _price_summary(
        self, symbol: str, name: str, period_days: int, interval: Interval, as_of: datetime | None
    ) -> dict[str, Any]:
        with self.prices.db.connection() as conn:
            last = self.prices.read(symbol, interval, as_of=as_of, limit=1, conn=conn)
            if last.empty:
                raise no_data_error(symbol, interval)
            end = last.index[-1]
            start = end - timedelta(days=period_days)
            window = self.prices.read(symbol, interval, start=start, end=end, conn=conn)
            freshness = self.freshness(symbol, interval, conn=conn)
        first_close = float(window["close"].iloc[0])
        close = float(window["close"].iloc[-1])
        fmt = "%Y-%m-%d" if interval == "1d" else "%Y-%m-%d %H:%M UTC"
        return {
            "symbol": symbol,
            "name": name,
            "interval": interval,
            "as_of": end.strftime(fmt),
            "close": round(close, 8),
            "period_days": period_days,
            "period_start": window.index[0].strftime(fmt),
            "start_close": round(first_close, 8),
            "change": round(close - first_close, 8),
            "change_pct": round((close / first_close - 1) * 100, 2),
            "high": round(float(window["high"].max()), 8),
            "low": round(float(window["low"].min()), 8),
            "stale": freshness.stale,
            "freshness": freshness.reason,
        }

    async def invalidate(self, symbol: str, interval: str) -> None:
        """Bump the data generation so cached reads of this series are no longer used."""
        await self.cache.bump(f"{symbol}:{interval}")

    async def invalidate_all(self) -> None:
        """Bump the generation of every supported series (after a bulk load)."""
        for coin in CATALOGUE:
            for interval in ("1d", "1h"):
                await self.invalidate(coin.symbol, interval)

    @staticmethod
    def csv_files(paths: Sequence[Path]) -> list[Path]:
        """The CSV files named by files and folders (a missing path is a validation error)."""
        return csv_files_in(list(paths))

    @staticmethod
    def symbols(texts: Sequence[str] | None) -> list[str]:
        """Resolve names and aliases to Yahoo symbols; none given means every supported one."""
        return [resolve(t).symbol for t in texts] if texts else supported_symbols()

    def import_paths(
        self, paths: Sequence[Path], progress: Progress | None = None, *, force: bool = False
    ) -> list[ImportResult]:
        """Import CSV files (folders expanded); each file is all-or-nothing."""
        results = []
        for path in csv_files_in(list(paths)):
            if progress:
                progress(path.name)
            results.append(import_file(self.prices, path, force=force))
        return results

    def refresh(
        self,
        symbols: Sequence[str] | None,
        interval: Interval = "1d",
        progress: Progress | None = None,
    ) -> list[RefreshResult]:
        """Fetch new bars from the provider for the given symbols (all supported when None)."""
        if self.provider is None:
            raise InvalidRequestError(
                "no market-data provider is configured (MARKET_PROVIDER=none)"
            )
        wanted = self.symbols(symbols)
        results = []
        for symbol in wanted:
            if progress:
                progress(symbol)
            results.append(refresh_symbol(self.prices, self.provider, symbol, interval))
        return results
