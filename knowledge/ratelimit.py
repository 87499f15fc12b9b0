"""Fixed-window rate limits per client and route group: Redis when configured, else in-process.

With Redis, every app instance shares the same counters, so a limit holds across replicas.
A Redis failure never blocks a request: the limiter falls back to its in-process counters.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any, NamedTuple

from knowledge.redis_client import redis_client

log = logging.getLogger(__name__)


class Decision(NamedTuple):
    """Whether a request may pass, how many remain, and when the window resets."""

    allowed: bool
    limit: int
    remaining: int
    retry_after: int


class RateLimiter:
    """`hit(group, client, limit, window)` counts one request and decides."""

    def __init__(self, redis_url: str | None = None, clock: Any = time.time) -> None:
        self._clock = clock
        self._local: dict[str, tuple[int, int]] = {}
        self.fallbacks = 0
        self._redis: Any = None
        if redis_url:
            self._redis = redis_client(redis_url)

    @property
    def backend(self) -> str:
        return "redis" if self._redis is not None else "memory"

    async def hit(self, group: str, client: str, limit: int, window: int = 60) -> Decision:
        """Count a request of `client` in `group`; deny beyond `limit` per `window` seconds."""
        now = self._clock()
        slot = int(now // window)
        key = f"rl:{group}:{client}:{slot}"
        retry_after = max(1, math.ceil((slot + 1) * window - now))
        count = await self._count_redis(key, window) if self._redis is not None else None
        if count is None:
            count = self._count_local(key, slot)
        return Decision(count <= limit, limit, max(0, limit - count), retry_after)

    async def _count_redis(self, key: str, window: int) -> int | None:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, window + 1)
                count, _ = await pipe.execute()
            return int(count)
        except Exception as exc:  # Redis down: count locally rather than refuse service
            self.fallbacks += 1
            log.warning("rate limiter falling back to in-process counters: %s", exc)
            return None

    def _count_local(self, key: str, slot: int) -> int:
        count = self._local.get(key, (slot, 0))[1] + 1
        self._local[key] = (slot, count)
        if len(self._local) > 10_000:  # drop windows that have ended
            self._local = {k: v for k, v in self._local.items() if v[0] >= slot}
        return count

    async def close(self) -> None:
        if self._redis is not None:
            try:
                await self._redis.aclose()
            except Exception as exc:  # closing a dead connection is not worth a crash
                log.debug("rate limiter close failed: %s", exc)
