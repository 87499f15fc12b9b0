"""Admin routes (API key required): market refreshes queued for the workers, and the jobs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AdminDep, ServicesDep
from api.responses import JobAccepted, JobList, JobStatus
from api.schemas import ERRORS, accepted

router = APIRouter(prefix="/admin", tags=["admin"])
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {**ERRORS, 401: {}, 403: {}}
JobId = Annotated[str, Path(min_length=1, max_length=20)]
State = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class RefreshRequest(BaseModel):
    """Which coins to refresh from the provider (all supported when empty)."""

    model_config = ConfigDict(extra="forbid")
    symbols: list[str] = Field(default_factory=list, max_length=50)
    interval: Literal["1d", "1h"] = "1d"


@router.post("/market/refresh", status_code=202, response_model=JobAccepted, responses=ADMIN_ERRORS)
async def refresh_market(body: RefreshRequest, services: ServicesDep, _: AdminDep) -> Any:
    """Queue a market-data refresh for a worker; 202 with the job id."""
    symbols = services.market.symbols(body.symbols or None)  # unknown symbols fail now (404)
    job = await anyio.to_thread.run_sync(
        lambda: services.jobs.defer(
            "market_refresh", {"symbols": symbols, "interval": body.interval}
        )
    )
    return accepted(job)


@router.get("/jobs", response_model=JobList, responses=ADMIN_ERRORS)
async def list_jobs(
    services: ServicesDep,
    _: AdminDep,
    status: State | None = None,
    kind: Annotated[str | None, Query(pattern=r"^[a-z_]{1,64}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Any:
    """The newest jobs with state, progress, attempts and outcome, and the counts by state."""

    def read() -> dict[str, Any]:
        jobs = services.jobs.list(limit=limit, status=status, kind=kind)
        return {"jobs": [j.as_dict() for j in jobs], "counts": services.jobs.counts()}

    return await anyio.to_thread.run_sync(read)


@router.get("/jobs/{job_id}", response_model=JobStatus, responses=ADMIN_ERRORS)
async def job_status(job_id: JobId, services: ServicesDep, _: AdminDep) -> Any:
    """One job's state, progress, attempts, and its result or error."""
    job = await anyio.to_thread.run_sync(services.jobs.get, job_id)
    return job.as_dict()


@router.post(
    "/jobs/{job_id}/retry",
    status_code=202,
    response_model=JobAccepted,
    responses={**ADMIN_ERRORS, 409: {"description": "The job is not in a retryable state"}},
)
async def retry_job(job_id: JobId, services: ServicesDep, _: AdminDep) -> Any:
    """Queue a failed job again; 202 with its id."""
    job = await anyio.to_thread.run_sync(services.jobs.retry, job_id)
    return accepted(job)
