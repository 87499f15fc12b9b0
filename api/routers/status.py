"""Operations: Prometheus metrics and the system status document."""

from __future__ import annotations

import platform
import time
from importlib import metadata
from typing import Any

import anyio
from fastapi import APIRouter, Request, Response

from api.deps import ServicesDep
from api.metrics import CONTENT_TYPE

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


@router.get("/system-status")
async def system_status(request: Request, services: ServicesDep) -> dict[str, Any]:
    """Uptime, versions, live counters, data freshness per symbol and the model summary."""
    market = services.market

    def freshness() -> list[dict[str, Any]]:
        return [
            {
                "symbol": c.symbol,
                "interval": c.interval,
                "rows": c.rows,
                "source": c.source,
                **market.freshness(c.symbol, c.interval).as_dict(),
            }
            for c in market.prices.coverage()
        ]

    chat = services.chat
    stats = services.cache.stats
    return {
        "uptime_seconds": round(time.time() - services.started_at, 1),
        "versions": {
            "app": request.app.version,
            "python": platform.python_version(),
            **{p: _version(p) for p in _PACKAGES},
        },
        "requests": dict(request.app.state.metrics.by_status),
        "cache": {"backend": services.cache.name, **stats.__dict__},
        "rate_limiter": {
            "backend": services.limiter.backend,
            "fallbacks": services.limiter.fallbacks,
        },
        "chat": {
            "mode": "llm" if services.settings.llm_model else "offline",
            "turns": dict(chat.turns) if chat else {},
            "tool_calls": {
                f"{n}:{'ok' if ok else 'failed'}": c for (n, ok), c in chat.tool_calls.items()
            }
            if chat
            else {},
        },
        "jobs": services.jobs.counts(),
        "models": await anyio.to_thread.run_sync(services.forecasts.summary),
        "data": await anyio.to_thread.run_sync(freshness),
    }
