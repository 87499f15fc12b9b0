"""The root document and the health check (both also answer HEAD: the status, no body)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from api.deps import HealthDep
from api.schemas import Health

router = APIRouter(tags=["meta"])


@router.get("/", summary="Name, version and the endpoint list")
async def root(request: Request) -> dict[str, Any]:
    app = request.app
    paths = app.openapi().get("paths", {})
    endpoints = [f"{method.upper()} {path}" for path, ops in paths.items() for method in ops]
    return {
        "name": app.title,
        "version": app.version,
        "docs": "/docs",
        "openapi": "/openapi.json",
        "endpoints": endpoints,
    }


@router.head("/", include_in_schema=False)
async def root_head() -> Response:
    return Response(status_code=200, media_type="application/json")


@router.get(
    "/health",
    response_model=Health,
    summary="One check per dependency; 503 when Postgres is down",
    responses={503: {"model": Health, "description": "Postgres is down"}},
)
async def health(service: HealthDep) -> Any:
    report = await service.check()
    status = 503 if report["status"] == "down" else 200
    return JSONResponse(status_code=status, content=report)


@router.head("/health", include_in_schema=False)
async def health_head(service: HealthDep) -> Response:
    """The same checks as GET: 200, or 503 while Postgres is down; no body."""
    report = await service.check()
    status = 503 if report["status"] == "down" else 200
    return Response(status_code=status, media_type="application/json")
