"""The one way this project opens Redis: the asyncio client with short timeouts and a retry.

Short socket timeouts keep an outage cheap for callers that fall back (cache, rate limiter).
A connection error is retried once at once on a new connection: after Redis restarts, the
pooled connections are dead, and the first command on each must not count as an outage.
"""

from __future__ import annotations

from typing import Any


def redis_client(url: str, timeout: float = 0.5) -> Any:
    """An asyncio Redis client for `url` (redis://, rediss:// or unix://)."""
    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError

    return aioredis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry_on_timeout=False,
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[RedisConnectionError],
    )
