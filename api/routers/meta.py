"""The root document and the health check (both also answer HEAD: the status, no body)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.responses import Index
from api.schemas import Health

router = APIRouter(tags=["meta"])
JSON = "application/json"


@router.get("/", response_model=Index, summary="Name, version and the endpoint list")
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
    return Response(status_code=200, media_type=JSON)


# The health routes read the service from the app state themselves (no dependency to solve) and
# answer the verdict's JSON bytes kept by the service: `response_model` documents the shape.
@router.get(
    "/health",
    response_model=Health,
    summary="One check per dependency; 503 when Postgres is down",
    responses={503: {"model": Health, "description": "Postgres is down"}},
)
async def health(request: Request) -> Any:
    status, body = await request.app.state.services.health.check_json()
    return Response(body, status_code=503 if status == "down" else 200, media_type=JSON)


@router.head("/health", include_in_schema=False)
async def health_head(request: Request) -> Response:
    """The same checks as GET: 200, or 503 while Postgres is down; no body."""
    status, _ = await request.app.state.services.health.check_json()
    return Response(status_code=503 if status == "down" else 200, media_type=JSON)
