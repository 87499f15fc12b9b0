"""Forecasts and the model lifecycle: POST /forecast, GET /model-metrics, POST /models/.../train."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from api.deps import AdminDep, ForecastsDep, ServicesDep
from api.responses import Forecast, JobAccepted, ModelMetrics
from api.schemas import ERRORS, accepted

router = APIRouter(tags=["forecasting"])
MODEL_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {"description": "No model trained for this symbol yet"},
}


class ForecastRequest(BaseModel):
    """Which coin and how many days ahead (1 to 30, a JSON integer: `true` or `"7"` is refused)."""

    model_config = ConfigDict(extra="forbid")
    symbol: str = Field(min_length=1, max_length=32, examples=["BTC-USD"])
    horizon_days: StrictInt = Field(default=7, ge=1, le=30)


@router.post("/forecast", response_model=Forecast, responses=MODEL_ERRORS)
async def forecast(body: ForecastRequest, forecasts: ForecastsDep) -> Any:
    """The champion model's forecast with an interval, its metrics and skill against naive."""
    return await forecasts.forecast(body.symbol, body.horizon_days)


@router.get("/model-metrics/{symbol}", response_model=ModelMetrics, responses=ERRORS)
async def model_metrics(
    forecasts: ForecastsDep, symbol: Annotated[str, Path(min_length=1, max_length=32)]
) -> Any:
    """Champion, every version with its walk-forward metrics, drift flags, realised accuracy."""
    return await forecasts.model_metrics(symbol)


@router.post(
    "/models/{symbol}/train",
    status_code=202,
    response_model=JobAccepted,
    responses={**ERRORS, 401: {}, 403: {}},
)
async def train(
    services: ServicesDep,
    _: AdminDep,
    symbol: Annotated[str, Path(min_length=1, max_length=32)],
) -> Any:
    """Queue training for a worker (never in the API process): 202 with the job id; a training
    of this coin already waiting is returned instead of a second one.

    A coin without stored daily bars is refused at once (404) instead of a job that must fail.
    """
    resolved = services.market.symbols([symbol])[0]
    await anyio.to_thread.run_sync(services.training.require_data, resolved)
    job = await anyio.to_thread.run_sync(services.jobs.train, resolved)
    return accepted(job)
