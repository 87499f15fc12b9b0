"""The coin catalogue's aliases, and the cache's promise never to fail a request."""

from __future__ import annotations

import pytest

from knowledge.cache import MemoryCache, SafeCache
from knowledge.errors import UnknownSymbolError
from knowledge.market.symbols import CATALOGUE, resolve, supported_symbols


@pytest.mark.parametrize(
    ("text", "symbol"),
    [
        ("btc", "BTC-USD"),
        ("Bitcoin", "BTC-USD"),
        ("BTC-USD", "BTC-USD"),
        ("$ETH", "ETH-USD"),
        ("ether", "ETH-USD"),
        ("ripple", "XRP-USD"),
        ("binance coin", "BNB-USD"),
        ("doge", "DOGE-USD"),
        ("UNI-USD", "UNI7083-USD"),
        ("  solana ", "SOL-USD"),
    ],
)
def test_aliases_resolve_to_yahoo_symbols(text: str, symbol: str) -> None:
    assert resolve(text).symbol == symbol


def test_catalogue_has_fifteen_major_coins_and_unknown_names_list_them() -> None:
    assert len(CATALOGUE) >= 15
    with pytest.raises(UnknownSymbolError) as info:
        resolve("dogwifcat")
    assert info.value.supported == supported_symbols()
    assert "BTC-USD" in str(info.value)


async def test_memory_cache_expires_entries() -> None:
    now = [0.0]
    cache = SafeCache(MemoryCache(clock=lambda: now[0]))
    await cache.set_json("k", {"a": 1}, ttl=10)
    assert await cache.get_json("k") == {"a": 1}
    now[0] = 11.0
    assert await cache.get_json("k") is None
    assert (cache.stats.hits, cache.stats.misses) == (1, 1)


async def test_a_bump_starts_a_new_generation_and_generations_are_not_hits() -> None:
    cache = SafeCache(MemoryCache())
    assert await cache.generation("BTC-USD:1d") == 0
    await cache.bump("BTC-USD:1d")
    await cache.bump("BTC-USD:1d")
    assert await cache.generation("BTC-USD:1d") == 2
    assert await cache.generation("ETH-USD:1d") == 0  # series are independent
    assert (cache.stats.hits, cache.stats.misses) == (0, 0)  # bookkeeping, not data reads


class _Broken:
    name = "broken"

    async def get(self, key: str) -> bytes | None:
        raise ConnectionError("down")

    async def set(self, key: str, value: bytes, ttl: int) -> None:
        raise ConnectionError("down")

    async def ping(self) -> bool:
        raise ConnectionError("down")

    async def close(self) -> None:
        raise ConnectionError("down")


async def test_a_failing_backend_is_counted_and_bypassed() -> None:
    cache = SafeCache(_Broken(), pause=60)
    assert await cache.get_json("k") is None
    await cache.set_json("k", 1, ttl=5)
    assert await cache.get_json("k") is None
    assert await cache.ping() is False
    assert cache.stats.errors == 1  # then paused: no further calls hit the dead backend
    assert cache.stats.bypassed == 2
