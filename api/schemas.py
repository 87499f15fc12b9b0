"""Response models of the REST contract (DESIGN.md), shown in the OpenAPI docs."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    """Every error response has this shape."""

    error: ErrorDetail


class Cryptocurrency(BaseModel):
    symbol: str
    name: str
    first_date: str | None
    last_date: str | None
    rows: int
    model_version: str | None


class Bar(BaseModel):
    date: str
    open: float
    high: float
    low: float
    close: float
    volume: float


class Freshness(BaseModel):
    last_bar: str | None
    age_hours: float | None
    stale: bool
    reason: str


class HistoricalData(BaseModel):
    symbol: str
    interval: str
    source: str
    freshness: Freshness
    rows: list[Bar]


class Check(BaseModel):
    ok: bool
    latency_ms: float
    detail: str


class Health(BaseModel):
    status: str
    checks: dict[str, Check]


ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "Unknown symbol or no stored data"},
    422: {"model": ErrorResponse, "description": "Malformed input"},
    503: {"model": ErrorResponse, "description": "Database unavailable"},
}


def accepted(job: Any) -> JSONResponse:
    """202 for a background job: its id, status and where to poll it."""
    return JSONResponse(
        status_code=202,
        content={"job_id": job.id, "status": job.status, "status_url": f"/admin/jobs/{job.id}"},
    )
