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
    """Redis through the asyncio client, with short socket timeouts so an outage is cheap.

    A connection error is retried once at once on a new connection: after Redis restarts, the
    pooled connections are dead, and the first command on each must not count as an outage.
    """

    name = "redis"

    def __init__(self, url: str, timeout: float = 0.5) -> None:
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError

        self._client = aioredis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry_on_timeout=False,
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[RedisConnectionError],
        )

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

    async def get_json(self, key: str, *, count: bool = True) -> Any | None:
        """The cached JSON value, or None on a miss or any failure.

        `count=False` keeps bookkeeping reads (generation counters) out of the hit rate.
        """
        if self._paused():
            return None
        try:
            raw = await self.backend.get(self._key(key))
        except Exception as exc:  # any backend failure is bypassed, by design
            self._failed("get", exc)
            return None
        if raw is None:
            if count:
                self.stats.misses += 1
            return None
        if count:
            self.stats.hits += 1
        return json.loads(raw)

    async def set_json(self, key: str, value: Any, ttl: int) -> None:
        """Store a JSON-serialisable value; failures are swallowed after being counted."""
        if self._paused():
            return
        try:
            await self.backend.set(self._key(key), json.dumps(value, default=str).encode(), ttl)
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
