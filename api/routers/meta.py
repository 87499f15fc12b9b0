"""The root document and the health check."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

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
