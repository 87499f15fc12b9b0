"""News sentiment: POST /sentiment (a symbol's news, or texts scored directly) and
GET /sentiment-trend/{symbol} (a daily series).

Limits are part of the request schema, so they show in the OpenAPI docs and a breach is a 422
naming the field: at most 100 texts, each 1 to 5,000 characters, together at most
`SENTIMENT_MAX_REQUEST_CHARS` (bodies beyond the global `MAX_BODY_BYTES` are refused with 413
before parsing). Scoring is CPU-bound, so the total bounds each request's time; the gatekeeper
caps how many run at once per client (`MAX_IN_FLIGHT_PER_CLIENT`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StringConstraints, model_validator

from agent.services.sentiment import (
    MAX_TEXT_CHARS,
    MAX_TEXTS,
    MIN_WINDOW_DAYS,
)
from api.deps import IsoDateOrTime, SentimentDep, ServicesDep
from api.responses import SentimentTrend
from api.schemas import ERRORS

router = APIRouter(tags=["sentiment"])

Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS)]


class SentimentRequest(BaseModel):
    """A symbol (its stored news over a window before `as_of`), or texts to score directly."""

    model_config = ConfigDict(extra="forbid")

    symbol: str | None = Field(default=None, min_length=1, max_length=32, examples=["BTC-USD"])
    texts: list[Text] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_TEXTS,
        description=f"up to {MAX_TEXTS} texts of up to {MAX_TEXT_CHARS} characters",
        examples=[["Bitcoin ETF approval sparks a rally", "Exchange hacked, funds drained"]],
    )
    since: IsoDateOrTime | None = Field(
        default=None, description="start of the window (a date: that UTC day's start)"
    )
    as_of: IsoDateOrTime | None = Field(
        default=None, description="end of the window, exclusive (a date: that UTC day's end)"
    )
    # strict: JSON `true` is not a number of days (lax float reads it as 1)
    window_days: StrictFloat = Field(
        default=7, ge=MIN_WINDOW_DAYS, le=365, description="window when no `since` (days)"
    )

    @model_validator(mode="after")
    def _symbol_or_texts(self) -> SentimentRequest:
        if self.symbol is None and self.texts is None:
            raise ValueError("give a symbol, or texts to score")
        return self


class Overall(BaseModel):
    """The aggregate reading; all None (and n 0) when there is nothing to score."""

    model_config = ConfigDict(extra="allow")
    label: str | None
    score: float | None
    confidence: float | None
    n: int


class Item(BaseModel):
    model_config = ConfigDict(extra="allow")
    text: str
    label: str | None
    score: float | None
    source: str
    published_at: str | None


class SentimentResponse(BaseModel):
    """`model` names the analyzer that produced the scores (None when there are none)."""

    model_config = ConfigDict(extra="allow")
    symbol: str | None
    model: str | None
    overall: Overall
    items: list[Item]


def _within_total(texts: list[str], limit: int) -> None:
    """A 422 naming the field and the limit when the texts together are over `limit` chars
    (a rule on the content, like the per-text limit; the body itself may be small enough)."""
    total = sum(len(text) for text in texts)
    if total > limit:
        message = (
            f"The texts have {total} characters together; the limit per request is {limit} "
            "(SENTIMENT_MAX_REQUEST_CHARS): split them over several requests."
        )
        raise RequestValidationError(
            [{"loc": ("body", "texts"), "msg": message, "type": "too_long", "input": None}]
        )


@router.post("/sentiment", response_model=SentimentResponse, responses=ERRORS)
async def sentiment(body: SentimentRequest, service: SentimentDep, services: ServicesDep) -> Any:
    """Texts: each scored, with their weighted mean. Symbol: the recency-weighted reading of its
    stored news, the items, sources and freshness; with no items, no score and a message."""
    if body.texts is not None:
        _within_total(body.texts, services.settings.sentiment_max_request_chars)
        result = await service.score_texts(body.texts)
        if body.symbol is not None:
            result["symbol"] = service.symbol(body.symbol)
        return result
    assert body.symbol is not None  # guaranteed by the validator
    return await service.symbol_sentiment(
        body.symbol, window_days=body.window_days, as_of=body.as_of, since=body.since
    )


@router.get("/sentiment-trend/{symbol}", response_model=SentimentTrend, responses=ERRORS)
async def sentiment_trend(
    service: SentimentDep,
    symbol: Annotated[str, Path(min_length=1, max_length=32)],
    days: Annotated[int, Query(ge=1, le=365)] = 30,
    as_of: Annotated[IsoDateOrTime | None, Query()] = None,
) -> Any:
    """`{symbol, model, n, days:[{date, score, label, confidence, n}]}`, a row per UTC day."""
    return await service.trend(symbol, days=days, as_of=as_of)
