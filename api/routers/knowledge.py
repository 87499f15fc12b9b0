"""Knowledge search: GET /knowledge/search over the indexed guides, coin profiles, cards, news."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import IsoDateOrTime, KnowledgeDep, NoNulText
from api.schemas import ERRORS

router = APIRouter(tags=["knowledge"])


class KnowledgeHit(BaseModel):
    """One retrieved passage."""

    doc_id: int
    title: str
    source: str
    section: str
    score: float
    text: str
    kind: str
    symbols: list[str]
    published_at: str | None


class KnowledgeSearchResponse(BaseModel):
    """The query as received and the passages found, best first."""

    query: str
    hits: list[KnowledgeHit]


@router.get("/knowledge/search", response_model=KnowledgeSearchResponse, responses=ERRORS)
async def search(
    service: KnowledgeDep,
    q: Annotated[NoNulText, Query(min_length=1, max_length=500, description="the question")],
    k: Annotated[int, Query(ge=1, le=50, description="how many passages")] = 5,
    kind: Annotated[
        str | None,
        Query(
            pattern="^(guide|coin|news|model_card)?$", description="guide, coin, news, model_card"
        ),
    ] = None,
    symbol: Annotated[
        str | None, Query(max_length=32, description="only passages about this coin (btc, BTC-USD)")
    ] = None,
    as_of: Annotated[
        IsoDateOrTime | None,
        Query(description="only documents published by then (a date = end of that UTC day)"),
    ] = None,
) -> Any:
    """Hybrid search (vectors + full text, reciprocal rank fusion) with optional filters."""
    return await anyio.to_thread.run_sync(
        lambda: service.search(q, k=k, kind=kind or None, symbol=symbol or None, as_of=as_of)
    )
