"""Health of each dependency, for `/health`: postgres is vital, the cache only degrades."""

from __future__ import annotations

import time
from typing import Any

import anyio

from knowledge.cache import SafeCache
from knowledge.database import Database


class HealthService:
    """Checks Postgres and the cache; the verdict is ok, degraded or down."""

    def __init__(self, db: Database, cache: SafeCache, redis_configured: bool) -> None:
        self.db = db
        self.cache = cache
        self.redis_configured = redis_configured

    async def check(self) -> dict[str, Any]:
        """One entry per dependency with ok, latency and a short detail."""
        started = time.perf_counter()
        pg_ok = await anyio.to_thread.run_sync(self.db.ping)
        pg = {
            "ok": pg_ok,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            "detail": "connected" if pg_ok else "cannot reach Postgres",
        }
        started = time.perf_counter()
        if self.redis_configured:
            redis_ok = await self.cache.ping()
            redis = {
                "ok": redis_ok,
                "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                "detail": "connected" if redis_ok else "cannot reach Redis; cache bypassed",
            }
        else:
            redis = {"ok": True, "latency_ms": 0.0, "detail": "not configured; in-process cache"}
        if not pg_ok:
            status = "down"
        elif not redis["ok"]:
            status = "degraded"
        else:
            status = "ok"
        return {"status": status, "checks": {"postgres": pg, "redis": redis}}
