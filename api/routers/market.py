"""Market data: the supported coins and their stored history."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import TypeAdapter

from api.deps import IsoDate
from api.schemas import ERRORS, Cryptocurrency, HistoricalData

router = APIRouter(tags=["market data"])
_HISTORY = TypeAdapter(HistoricalData)


def encode_history(body: dict[str, Any]) -> bytes:
    """The history as `response_model` would send it: validated, then encoded."""
    return _HISTORY.dump_json(_HISTORY.validate_python(body))


# The routes read the market service from the app state themselves (no dependency to solve);
# `response_model` documents the history, whose answer is the bytes the service caches.
@router.get("/cryptocurrencies", response_model=list[Cryptocurrency], responses=ERRORS)
async def cryptocurrencies(request: Request) -> Any:
    """Every supported coin with the daily range stored for it."""
    return await anyio.to_thread.run_sync(request.app.state.services.market.cryptocurrencies)


@router.get("/historical-data/{symbol}", response_model=HistoricalData, responses=ERRORS)
async def historical_data(
    request: Request,
    symbol: Annotated[str, Path(min_length=1, max_length=32, description="BTC-USD, btc, bitcoin")],
    start: Annotated[IsoDate | None, Query(description="first day, YYYY-MM-DD")] = None,
    end: Annotated[IsoDate | None, Query(description="last day, YYYY-MM-DD")] = None,
    interval: Annotated[Literal["1d", "1h"], Query()] = "1d",
) -> Any:
    """Stored OHLCV bars with their source and freshness (stale data is marked, never hidden)."""
    market = request.app.state.services.market
    raw = await market.historical_json(symbol, start, end, interval, encode_history)
    return Response(raw, media_type="application/json")
