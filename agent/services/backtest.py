"""Backtest service: a rule's (or the stance's) event study and strategy on stored bars.

The one way front-ends and agent tools backtest a signal. It reads every stored bar up to `end`
(a date means the end of that UTC day), runs `tools.backtest` off the event loop and caches the
answer per series generation, so a refresh of the bars is seen at once.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

import anyio

from agent.errors import InvalidRequestError, no_data_error
from agent.services.technical import as_of_bound
from knowledge.cache import SafeCache
from knowledge.market.repository import Interval, PriceRepository
from knowledge.market.symbols import resolve
from tools.backtest import (
    HORIZONS,
    RULE_ALIASES,
    RULE_LABELS,
    RULE_NAMES,
    BacktestReport,
    backtest,
    resolve_rule,
)

# the report model and the rule names are re-exported for the front-ends (which never import
# `tools`): the API documents its answer with the model, the bot and the CLI list the names
__all__ = ["BAR_LIMIT", "RULE_ALIASES", "RULE_NAMES", "BacktestReport", "BacktestService"]

BARS_PER_DAY: dict[str, int] = {"1d": 1, "1h": 24}
# hourly history is long: the latest two years of bars is plenty for an event study
BAR_LIMIT: dict[str, int | None] = {"1d": None, "1h": 2 * 365 * 24}
MAX_COST_BPS = 1000.0
MAX_HORIZON_DAYS = 365


class BacktestService:
    """Event studies and strategy backtests of the technical engine's rules."""

    def __init__(self, prices: PriceRepository, cache: SafeCache, cache_ttl: int = 300) -> None:
        self.prices = prices
        self.cache = cache
        self.cache_ttl = cache_ttl

    async def run(
        self,
        symbol_text: str,
        rule: str = "stance",
        *,
        interval: Interval = "1d",
        start: date | datetime | None = None,
        end: date | datetime | None = None,
        horizon_days: int | None = None,
        fee_bps: float = 10.0,
        slippage_bps: float = 5.0,
    ) -> dict[str, Any]:
        """The backtest as JSON, with `side` (the side the rule's name points at, e.g. "sell"
        for "death cross", else None) and `labels` (what each side's onset is, in words)."""
        coin = resolve(symbol_text)
        name, side = resolve_rule(rule)  # an unknown rule fails before any work
        _check(start, end, horizon_days, fee_bps, slippage_bps)
        horizons = (horizon_days,) if horizon_days is not None else HORIZONS
        request = [coin.symbol, interval, name, str(start), str(end), horizons, fee_bps,
                   slippage_bps]  # fmt: skip
        gen = await self.cache.generation(f"{coin.symbol}:{interval}")
        digest = hashlib.sha256(json.dumps(request).encode()).hexdigest()[:16]
        key = f"bt:{coin.symbol}:{interval}:{digest}:{gen}"
        cached = await self.cache.get_json(key)
        if cached is None:
            body = await anyio.to_thread.run_sync(
                self._run, coin.symbol, interval, name, start, end, horizons, fee_bps, slippage_bps
            )
            await self.cache.set_json(key, body, self.cache_ttl)
        else:
            body = dict(cached)
        buy, sell = RULE_LABELS[name]
        return body | {"side": side, "labels": {"buy": buy, "sell": sell}}

    async def chart(self, served: dict[str, Any]) -> Any:
        """A served backtest's equity curves against buy-and-hold, as a Plotly figure."""
        from tools.backtest.figure import equity_figure

        return equity_figure(served)

    async def chart_png(
        self, served: dict[str, Any], width: int = 1200, height: int = 700
    ) -> bytes:
        """The same chart as a PNG (for chats that show images, such as Telegram)."""
        from tools.charts import figure_to_png

        figure = await self.chart(served)
        return await anyio.to_thread.run_sync(lambda: figure_to_png(figure, width, height))

    def _run(
        self,
        symbol: str,
        interval: Interval,
        rule: str,
        start: date | datetime | None,
        end: date | datetime | None,
        horizons: tuple[int, ...],
        fee_bps: float,
        slippage_bps: float,
    ) -> dict[str, Any]:
        bound = as_of_bound(end)
        bars = self.prices.read(symbol, interval, as_of=bound, limit=BAR_LIMIT[interval])
        if bars.empty:
            when = f" closed by {bound.isoformat()}" if bound else ""
            raise no_data_error(symbol, interval, when)
        per_day = BARS_PER_DAY[interval]
        report = backtest(
            bars,
            symbol=symbol,
            rule=rule,
            interval=interval,
            start=start,
            end=bound,
            horizons=[h * per_day for h in horizons],
            fee_bps=fee_bps,
            slippage_bps=slippage_bps,
        )
        body = report.model_dump(mode="json")
        body["horizon_days"] = list(horizons)
        return body


def _check(
    start: date | datetime | None,
    end: date | datetime | None,
    horizon_days: int | None,
    fee_bps: float,
    slippage_bps: float,
) -> None:
    """Refuse what no backtest can answer (422), before reading any bar."""
    if start is not None and end is not None and as_of_bound(start) >= as_of_bound(end):  # type: ignore[operator]
        raise InvalidRequestError("start must be before end")
    if horizon_days is not None and not 1 <= horizon_days <= MAX_HORIZON_DAYS:
        raise InvalidRequestError(f"horizon_days must be between 1 and {MAX_HORIZON_DAYS}")
    for name, value in (("fee_bps", fee_bps), ("slippage_bps", slippage_bps)):
        if not 0 <= value <= MAX_COST_BPS:
            raise InvalidRequestError(f"{name} must be between 0 and {MAX_COST_BPS:g}")
