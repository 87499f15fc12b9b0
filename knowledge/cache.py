"""One cache interface: Redis when configured, an in-process TTL cache otherwise.

`SafeCache` wraps either so a cache failure never fails a request: it is logged, counted and
bypassed (with a short pause before the backend is tried again).
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

from knowledge.redis_client import redis_client

log = logging.getLogger(__name__)


class CacheBackend(Protocol):
    """What a cache store must do."""

    name: str

    async def get(self, key: str) -> bytes | None: ...
    async def set(self, key: str, value: bytes, ttl: int) -> None: ...
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...


class MemoryCache:
    """An in-process LRU cache with per-entry expiry."""

    name = "memory"

    def __init__(self, max_entries: int = 2048, clock: Any = time.monotonic) -> None:
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._max = max_entries
        self._clock = clock

    async def get(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        expires, value = item
        if expires < self._clock():
            self._data.pop(key, None)
            return None
        self._data.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, ttl: int) -> None:
        self._data[key] = (self._clock() + ttl, value)
        self._data.move_to_end(key)
        while len(self._data) > self._max:
            self._data.popitem(last=False)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._data.clear()


class RedisCache:
    """Redis as the cache backend (see `redis_client` for timeouts and the reconnect retry)."""

    name = "redis"

    def __init__(self, url: str, timeout: float = 0.5) -> None:
        self._client = redis_client(url, timeout)

    async def get(self, key: str) -> bytes | None:
        value = await self._client.get(key)
        if value is None:
            return None
        return value.encode() if isinstance(value, str) else bytes(value)

    async def set(self, key: str, value: bytes, ttl: int) -> None:
        await self._client.set(key, value, ex=ttl)

    async def ping(self) -> bool:
        return bool(await self._client.ping())

    async def close(self) -> None:
        await self._client.aclose()


@dataclass
class CacheStats:
    """Counters shown by `/system-status` and `/metrics`."""

    hits: int = 0
    misses: int = 0
    errors: int = 0
    bypassed: int = 0


class SafeCache:
    """Never raises: backend errors are logged, counted and bypassed for `pause` seconds."""

    def __init__(self, backend: CacheBackend, *, namespace: str = "ca", pause: float = 2.0):
        self.backend = backend
        self.namespace = namespace
        self.stats = CacheStats()
        self._pause = pause
        self._down_until = 0.0

    @property
    def name(self) -> str:
        return self.backend.name

    def _key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    def _failed(self, action: str, exc: Exception) -> None:
        self.stats.errors += 1
        self._down_until = time.monotonic() + self._pause
        log.warning("cache %s failed on %s, bypassing: %s", self.backend.name, action, exc)

    def _paused(self) -> bool:
        if time.monotonic() < self._down_until:
            self.stats.bypassed += 1
            return True
        return False

    async def _get_raw(self, key: str) -> bytes | bool | None:
        """The stored bytes, None on a miss, False when the backend is paused or failing."""
        if self._paused():
            return False
        try:
            return await self.backend.get(self._key(key))
        except Exception as exc:  # any backend failure is bypassed, by design
            self._failed("get", exc)
            return False

    async def get_bytes(self, key: str) -> bytes | None:
        """The cached bytes, or None on a miss or any failure (counted as hit or miss)."""
        raw = await self._get_raw(key)
        if raw is None:
            self.stats.misses += 1
        if not isinstance(raw, bytes):
            return None
        self.stats.hits += 1
        return raw

    async def get_json(self, key: str) -> Any | None:
        """The cached JSON value, or None on a miss or any failure (counted as hit or miss)."""
        raw = await self.get_bytes(key)
        return None if raw is None else json.loads(raw)

    async def generation(self, series: str) -> int:
        """The data generation of `series` (0 until bumped). Keys built with it go stale at the
        next `bump`; a bookkeeping read, so it is not counted in the hit rate."""
        raw = await self._get_raw(f"gen:{series}")
        return int(json.loads(raw)) if isinstance(raw, bytes) else 0

    async def bump(self, series: str, ttl: int = 30 * 86_400) -> None:
        """Start a new generation of `series`: every key built with the old one is unused."""
        await self.set_json(f"gen:{series}", await self.generation(series) + 1, ttl)

    async def set_json(self, key: str, value: Any, ttl: int) -> None:
        """Store a JSON-serialisable value; failures are swallowed after being counted."""
        await self.set_bytes(key, json.dumps(value, default=str).encode(), ttl)

    async def set_bytes(self, key: str, value: bytes, ttl: int) -> None:
        """Store bytes as they are; failures are swallowed after being counted."""
        if self._paused():
            return
        try:
            await self.backend.set(self._key(key), value, ttl)
        except Exception as exc:  # any backend failure is bypassed, by design
            self._failed("set", exc)

    async def ping(self) -> bool:
        """True when the backend answers now (checked even while paused)."""
        try:
            ok = await self.backend.ping()
        except Exception as exc:  # a failed ping is a health verdict, not an error
            log.debug("cache ping failed: %s", exc)
            return False
        if ok:
            self._down_until = 0.0
        return ok

    async def close(self) -> None:
        try:
            await self.backend.close()
        except Exception as exc:  # closing a dead connection is not worth a crash
            log.debug("cache close failed: %s", exc)


def make_cache(redis_url: str | None) -> SafeCache:
    """Redis when a URL is given, the in-process cache otherwise."""
    backend: CacheBackend = RedisCache(redis_url) if redis_url else MemoryCache()
    return SafeCache(backend)
