"""Admin routes (API key required): background market refreshes and job status."""

from __future__ import annotations

from typing import Any, Literal

import anyio
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AdminDep, ServicesDep
from api.responses import JobAccepted, JobStatus
from api.schemas import ERRORS, accepted

router = APIRouter(prefix="/admin", tags=["admin"])


class RefreshRequest(BaseModel):
    """Which coins to refresh from the provider (all supported when empty)."""

    model_config = ConfigDict(extra="forbid")
    symbols: list[str] = Field(default_factory=list, max_length=50)
    interval: Literal["1d", "1h"] = "1d"


@router.post(
    "/market/refresh",
    status_code=202,
    response_model=JobAccepted,
    responses={**ERRORS, 401: {}, 403: {}},
)
async def refresh_market(body: RefreshRequest, services: ServicesDep, _: AdminDep) -> Any:
    """Start a market-data refresh in the background; 202 with the job id."""
    symbols = services.market.symbols(body.symbols or None)  # unknown symbols fail now (404)

    async def work() -> list[dict[str, Any]]:
        results = await anyio.to_thread.run_sync(
            lambda: services.market.refresh(symbols, body.interval)
        )
        for result in results:
            await services.market.invalidate(result.symbol, result.interval)
        return [r.__dict__ | {"since": str(r.since)} for r in results]

    job = services.jobs.submit(
        "market_refresh", {"symbols": symbols, "interval": body.interval}, work
    )
    return accepted(job)


@router.get("/jobs/{job_id}", response_model=JobStatus, responses={**ERRORS, 401: {}, 403: {}})
async def job_status(job_id: str, services: ServicesDep, _: AdminDep) -> Any:
    """A background job's status and outcome."""
    job = services.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"No job {job_id}.")
    return job.as_dict()
