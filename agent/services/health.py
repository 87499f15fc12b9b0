"""Health of each dependency, for `/health`: postgres is vital, the cache only degrades.

The verdict is kept for `ttl` seconds (counted from when its check started), and concurrent
callers share the one check in progress: under load `/health` costs no database round trip
per call, yet a dead Postgres still answers "down" within DB_TIMEOUT of the next check.
"""

from __future__ import annotations

import json
import time
from typing import Any

import anyio

from knowledge.cache import SafeCache
from knowledge.database import Database

#: How long one verdict is reused (seconds).
HEALTH_TTL = 0.05


class HealthService:
    """Checks Postgres and the cache; the verdict is ok, degraded or down."""

    def __init__(
        self, db: Database, cache: SafeCache, redis_configured: bool, ttl: float = HEALTH_TTL
    ) -> None:
        self.db = db
        self.cache = cache
        self.redis_configured = redis_configured
        self.ttl = ttl
        self._report: dict[str, Any] | None = None
        self._encoded: tuple[str, bytes] = ("", b"")
        self._encoded_from: dict[str, Any] | None = None
        self._checked_at = 0.0
        self._running: anyio.Event | None = None

    async def check(self) -> dict[str, Any]:
        """One entry per dependency with ok, latency and a short detail (a fresh copy)."""
        return _copy(await self._verdict())

    async def check_json(self) -> tuple[str, bytes]:
        """The status ("ok", "degraded", "down") and the report as JSON bytes."""
        report = await self._verdict()
        status, body = self._encoded
        if not body or self._encoded_from is not report:
            status, body = report["status"], json.dumps(report).encode()
            self._encoded, self._encoded_from = (status, body), report
        return status, body

    async def _verdict(self) -> dict[str, Any]:
        """The kept verdict while fresh, else the check in progress or a new one (not a copy)."""
        report = self._report
        if report is not None and time.monotonic() - self._checked_at < self.ttl:
            return report
        running = self._running
        if running is not None:  # someone is checking now: share their verdict
            await running.wait()
            if self._report is not None:
                return self._report
        self._running = done = anyio.Event()
        started = time.monotonic()
        try:
            report = await self._check()
            self._report, self._checked_at = report, started
        finally:
            self._running = None
            done.set()
        return report

    def forget(self) -> None:
        """Drop the kept verdict: the next call checks again."""
        self._report = None

    async def _check(self) -> dict[str, Any]:
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


def _copy(report: dict[str, Any]) -> dict[str, Any]:
    """A copy a caller may change without touching the kept verdict."""
    checks = {name: dict(check) for name, check in report["checks"].items()}
    return {"status": report["status"], "checks": checks}
