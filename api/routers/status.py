"""Operations: Prometheus metrics and the system status document."""

from __future__ import annotations

import platform
import time
from importlib import metadata
from typing import Any

import anyio
from fastapi import APIRouter, HTTPException, Request, Response

from api.deps import ServicesDep
from api.metrics import CONTENT_TYPE
from api.responses import SystemStatus
from api.security import check_admin_key

router = APIRouter(tags=["operations"])
_PACKAGES = ("fastapi", "langgraph", "langchain-core", "pandas", "ta-lib", "psycopg", "redis")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE: {}}}})
async def metrics(request: Request) -> Response:
    """Prometheus text format."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)


def _is_admin(request: Request, services: Any) -> bool:
    """Whether the request carries the valid admin key (read here, not declared: the key is an
    optional extra, and a wrong or missing one only hides the build details)."""
    try:
        check_admin_key(services, request.headers.get("x-api-key"))
    except HTTPException:
        return False
    return True


def _build(request: Request, services: Any) -> dict[str, Any]:
    """What reveals the build and deployment: for the admin only."""
    return {
        "versions": {
            "app": request.app.version,
            "python": platform.python_version(),
            **{p: _version(p) for p in _PACKAGES},
        },
        "cache": {"backend": services.cache.name, **services.cache.stats.__dict__},
        "rate_limiter": {
            "backend": services.limiter.backend,
            "fallbacks": services.limiter.fallbacks,
        },
    }


@router.get("/system-status", response_model=SystemStatus)
async def system_status(request: Request, services: ServicesDep) -> dict[str, Any]:
    """Uptime, live counters, data freshness per series (with its last successful refresh),
    the model summary, and the job queue: jobs by state, live workers, the schedule with each
    entry's last and next run. With the admin key also the alert conditions (active or cleared).

    Library and Python versions and the cache and rate-limiter backends are shown only with the
    admin key in `X-API-Key` (the app version is public, as on `/`); without it the cache shows
    its counters only.
    """
    market = services.market

    def freshness() -> list[dict[str, Any]]:
        synced = market.prices.sync_states()
        out = []
        for c in market.prices.coverage():
            sync = synced.get((c.symbol, c.interval))
            success = sync.last_success_at if sync is not None else None
            out.append(
                {
                    "symbol": c.symbol,
                    "interval": c.interval,
                    "rows": c.rows,
                    "source": c.source,
                    **market.freshness(c.symbol, c.interval).as_dict(),
                    "refreshed_at": success.isoformat() if success else None,
                }
            )
        return out

    chat = services.chat
    public: dict[str, Any] = {
        "uptime_seconds": round(time.time() - services.started_at, 1),
        "versions": {"app": request.app.version},
        "requests": dict(request.app.state.metrics.by_status),
        "cache": dict(services.cache.stats.__dict__),
        "chat": {
            "mode": "llm" if services.settings.llm_model else "offline",
            "turns": dict(chat.turns) if chat else {},
            "tool_calls": {
                f"{n}:{'ok' if ok else 'failed'}": c for (n, ok), c in chat.tool_calls.items()
            }
            if chat
            else {},
        },
        "jobs": await anyio.to_thread.run_sync(
            lambda: services.jobs.overview(
                services.settings, provider=services.market.provider is not None
            )
        ),
        "models": await anyio.to_thread.run_sync(services.forecasts.summary),
        "data": await anyio.to_thread.run_sync(freshness),
    }
    if not _is_admin(request, services):
        return public
    alerts = services.alerts.overview if services.alerts is not None else list
    return {**public, **_build(request, services), "alerts": await anyio.to_thread.run_sync(alerts)}
