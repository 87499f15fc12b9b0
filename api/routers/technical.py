"""Technical analysis: indicator values, signals with reasons, a summary stance, levels."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, TypeAdapter

from agent.services.technical import IndicatorParams, TechnicalReport
from api.deps import IsoDateOrTime
from api.schemas import ERRORS

router = APIRouter(tags=["technical analysis"])

IndicatorName = Annotated[str, StringConstraints(min_length=1, max_length=32)]


def _numbers_only(value: Any) -> Any:
    """Every indicator parameter is a number: JSON `true`/`false` or a numeric string is refused
    (lax validation would read `true` as 1 and `"14"` as 14)."""
    if isinstance(value, dict):
        for key, item in value.items():
            items = item if isinstance(item, list) else [item]
            wrong = [i for i in items if isinstance(i, bool | str)]
            if wrong and key in IndicatorParams.model_fields:
                raise ValueError(f"{key} must be a number, not {type(wrong[0]).__name__}")
    return value


Params = Annotated[IndicatorParams | None, BeforeValidator(_numbers_only)]


class TechnicalRequest(BaseModel):
    """What to analyse; `as_of` bounds the bars used (a date means the end of that UTC day)."""

    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(min_length=1, max_length=32, examples=["BTC-USD", "eth"])
    as_of: IsoDateOrTime | None = None
    interval: Literal["1d", "1h"] = "1d"
    indicators: list[IndicatorName] | None = Field(
        default=None, max_length=20, examples=[["rsi", "macd", "bbands"]]
    )
    params: Params = None


_REPORT = TypeAdapter(TechnicalReport)


def encode_report(report: dict[str, Any]) -> bytes:
    """The report as `response_model` would send it: validated, then encoded."""
    return _REPORT.dump_json(_REPORT.validate_python(report))


# `response_model` documents the answer; the route returns the bytes the service caches (made
# by `encode_report` once per report), and reads the service from the app state itself.
@router.post("/technical", response_model=TechnicalReport, responses=ERRORS)
async def technical(body: TechnicalRequest, request: Request) -> Any:
    """Indicators from TA-Lib on stored bars up to `as_of`, with buy/sell/hold rules and reasons."""
    service = request.app.state.services.technical
    raw = await service.report_json(
        body.symbol,
        encode_report,
        interval=body.interval,
        as_of=body.as_of,
        indicators=body.indicators,
        params=body.params,
    )
    return Response(raw, media_type="application/json")
