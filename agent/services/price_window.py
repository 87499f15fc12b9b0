"""Prices over a past window: a day's bar, or the high, the low and the change between two
dates, from the stored bars only.

A window the stored data does not cover is never answered with other bars: a window wholly
outside it is a `NotFoundError` naming the stored range, one partly outside is answered for the
part covered with a note saying which part that is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import anyio

from agent.errors import InvalidRequestError, NotFoundError, no_data_error
from agent.services.market import MarketService
from knowledge.as_of import BAR_LENGTH, as_of_instant, start_instant
from knowledge.market.repository import Interval
from knowledge.market.symbols import resolve

MAX_WINDOW_DAYS = 3660


def _day(moment: datetime, interval: str) -> str:
    return moment.strftime("%Y-%m-%d" if interval == "1d" else "%Y-%m-%d %H:%M UTC")


async def price_window(
    market: MarketService,
    symbol_text: str,
    start: date,
    end: date | None = None,
    interval: Interval = "1d",
) -> dict[str, Any]:
    """The bars of the UTC days `start` to `end` (inclusive; one day when `end` is None)."""
    coin = resolve(symbol_text)
    last_day = end or start
    if last_day < start:
        raise InvalidRequestError(f"the window ends ({last_day}) before it starts ({start})")
    if (last_day - start).days > MAX_WINDOW_DAYS:
        raise InvalidRequestError(f"a window can be at most {MAX_WINDOW_DAYS} days long")
    since, until = start_instant(start), as_of_instant(last_day)  # both check the date range
    until = min(until, datetime.now(UTC))  # only bars that have closed: no unfinished day
    return await anyio.to_thread.run_sync(
        _window, market, coin.symbol, coin.name, start, last_day, since, until, interval
    )


def _window(
    market: MarketService,
    symbol: str,
    name: str,
    start: date,
    end: date,
    since: datetime,
    until: datetime,
    interval: Interval,
) -> dict[str, Any]:
    prices = market.prices
    with prices.db.connection() as conn:
        span = prices.span(symbol, interval, conn=conn)
        if span is None:
            raise no_data_error(symbol, interval)
        bars = prices.read(symbol, interval, start=since, as_of=until, conn=conn)
    first, last = (_day(moment, interval) for moment in span)
    asked = f"{start}" if start == end else f"{start} to {end}"
    if bars.empty:
        inside = span[0] <= since and until <= span[1]
        raise NotFoundError(
            f"I have no {interval} bar of {symbol} for {asked}: the stored {interval} bars run "
            f"from {first} to {last}" + (", with a gap there." if inside else ".")
        )
    used_first, used_last = _day(bars.index[0], interval), _day(bars.index[-1], interval)
    gaps = []
    if since < span[0]:
        gaps.append(f"the stored bars start on {first}")
    if until > span[1] + BAR_LENGTH[interval]:
        gaps.append(f"the latest stored bar is from {last}")
    step = BAR_LENGTH[interval]
    expected = int((bars.index[-1] - bars.index[0]) / step) + 1
    if len(bars) < expected:
        unit = "days" if interval == "1d" else "hours"
        gaps.append(f"{expected - len(bars)} of the {expected} {unit} in it have no stored bar")
    open_, close = float(bars["open"].iloc[0]), float(bars["close"].iloc[-1])
    high_at = bars.index[int(bars["high"].to_numpy().argmax())]
    low_at = bars.index[int(bars["low"].to_numpy().argmin())]
    return {
        "symbol": symbol,
        "name": name,
        "interval": interval,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "first_bar": used_first,
        "last_bar": used_last,
        "bars": len(bars),
        "open": round(open_, 8),
        "close": round(close, 8),
        "change": round(close - open_, 8),
        "change_pct": round((close / open_ - 1) * 100, 2),
        "high": round(float(bars["high"].max()), 8),
        "high_on": _day(high_at, interval),
        "low": round(float(bars["low"].min()), 8),
        "low_on": _day(low_at, interval),
        "note": (f"not all of {asked} is stored: " + "; ".join(gaps)) if gaps else None,
    }
