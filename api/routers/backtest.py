"""Backtests: how a technical rule (or the summary stance) did on a coin's stored bars."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from agent.services.backtest import BacktestReport
from api.deps import IsoDateOrTime
from api.schemas import ERRORS

router = APIRouter(tags=["backtests"])

#: basis points per trade: a JSON number (`true` or `"10"` is refused), never NaN or infinite
Bps = Annotated[float, Field(strict=True, ge=0, le=1000, allow_inf_nan=False)]


class BacktestRequest(BaseModel):
    """Which coin and rule; `start`/`end` bound the period (a date means that UTC day's end)."""

    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(min_length=1, max_length=32, examples=["BTC-USD", "eth"])
    rule: str = Field(
        default="stance", min_length=1, max_length=64, examples=["stance", "golden cross", "rsi"]
    )
    start: IsoDateOrTime | None = None
    end: IsoDateOrTime | None = None
    horizon_days: int | None = Field(default=None, strict=True, ge=1, le=365)
    fee_bps: Bps = 10.0
    slippage_bps: Bps = 5.0
    interval: Literal["1d", "1h"] = "1d"


class SideLabels(BaseModel):
    """What an onset of each side of the rule is, in words."""

    buy: str
    sell: str


class BacktestAnswer(BacktestReport):
    """The engine's report plus the horizons asked (days), the side the rule's name points at
    ("death cross": sell) and each side's onset in words."""

    horizon_days: list[int]
    side: Literal["buy", "sell"] | None = None
    labels: SideLabels


@router.post("/backtest", response_model=BacktestAnswer, responses=ERRORS)
async def backtest(body: BacktestRequest, request: Request) -> Any:
    """Event study of the rule's signals (hit rate and forward returns against all days, with
    a randomisation test) and long/flat and long/short strategies net of costs against
    buy-and-hold, on stored bars up to `end` only."""
    service = request.app.state.services.backtests
    return await service.run(
        body.symbol,
        body.rule,
        interval=body.interval,
        start=body.start,
        end=body.end,
        horizon_days=body.horizon_days,
        fee_bps=body.fee_bps,
        slippage_bps=body.slippage_bps,
    )
