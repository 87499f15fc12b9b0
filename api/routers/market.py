"""Market data: the supported coins and their stored history."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Path, Query

from api.deps import IsoDate, MarketDep
from api.schemas import ERRORS, Cryptocurrency, HistoricalData

router = APIRouter(tags=["market data"])


@router.get("/cryptocurrencies", response_model=list[Cryptocurrency], responses=ERRORS)
async def cryptocurrencies(market: MarketDep) -> Any:
    """Every supported coin with the daily range stored for it."""
    return await anyio.to_thread.run_sync(market.cryptocurrencies)


@router.get("/historical-data/{symbol}", response_model=HistoricalData, responses=ERRORS)
async def historical_data(
    market: MarketDep,
    symbol: Annotated[str, Path(min_length=1, max_length=32, description="BTC-USD, btc, bitcoin")],
    start: Annotated[IsoDate | None, Query(description="first day, YYYY-MM-DD")] = None,
    end: Annotated[IsoDate | None, Query(description="last day, YYYY-MM-DD")] = None,
    interval: Annotated[Literal["1d", "1h"], Query()] = "1d",
) -> Any:
    """Stored OHLCV bars with their source and freshness (stale data is marked, never hidden)."""
    return await market.historical(symbol, start, end, interval)
