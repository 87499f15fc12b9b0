"""Candle charts for the symbols a turn analysed, as inline Chainlit Plotly elements.

The figure comes from the agent's technical service (`services.technical.chart`) with the same
symbol, bar size and `as_of` as the `technical_analysis` call, so the chart shows exactly the
bars the answer's readings were computed on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import chainlit as cl

from agent import tool_names as names
from agent.core import Services
from agent.errors import KnowledgeError, ServiceError, ToolError

log = logging.getLogger(__name__)
MAX_CHARTS = 3
INTERVALS = ("1d", "1h")


@dataclass(frozen=True)
class ChartRequest:
    """One chart to draw: what the technical analysis of the turn looked at."""

    symbol: str
    interval: str
    as_of: date | datetime | None


def _as_of(value: Any) -> date | datetime | None:
    if value is None or isinstance(value, date):
        return value
    text = str(value)
    return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)


def chart_requests(tools_used: list[dict[str, Any]]) -> list[ChartRequest]:
    """The distinct successful `technical_analysis` calls of a turn (at most `MAX_CHARTS`)."""
    found: list[ChartRequest] = []
    for use in tools_used:
        if use.get("name") != names.TECHNICAL_ANALYSIS or not use.get("ok"):
            continue
        args = use.get("args") or {}
        result = use.get("result") or {}
        interval = str(args.get("interval") or result.get("interval") or "1d")
        try:
            request = ChartRequest(
                symbol=str(result.get("symbol") or args["symbol"]),
                interval=interval if interval in INTERVALS else "1d",
                as_of=_as_of(args.get("as_of")),
            )
        except (KeyError, ValueError):
            continue  # no usable symbol or date: nothing to chart
        if request not in found:
            found.append(request)
    return found[:MAX_CHARTS]


def served_forecasts(tools_used: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The forecasts the turn's successful `forecast_price` calls served, one per symbol and
    horizon: the chart draws exactly what the answer quotes."""
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for use in tools_used:
        result = use.get("result") or {}
        if use.get("name") == names.FORECAST_PRICE and use.get("ok") and "predictions" in result:
            found.setdefault((str(result["symbol"]), len(result["predictions"])), result)
    return list(found.values())[:MAX_CHARTS]


async def chart_elements(
    services: Services, tools_used: list[dict[str, Any]]
) -> tuple[list[cl.Plotly], list[str]]:
    """Inline charts for the turn, and a note for each chart that could not be drawn."""
    elements: list[cl.Plotly] = []
    notes: list[str] = []
    for request in chart_requests(tools_used):
        label = f"{request.symbol} {request.interval}"
        try:
            figure = await services.technical.chart(
                request.symbol,
                interval=request.interval,  # type: ignore[arg-type]
                as_of=request.as_of,
            )
        except (ServiceError, KnowledgeError, ToolError) as exc:
            log.warning("chart %s failed: %s", label, exc)
            notes.append(f"chart for {label} unavailable: {exc}")
            continue
        elements.append(
            cl.Plotly(name=f"{label} chart", figure=figure, display="inline", size="large")
        )
    for use in tools_used:
        result = use.get("result") or {}
        if use.get("name") != names.NEWS_SENTIMENT or not use.get("ok") or not result.get("symbol"):
            continue
        try:
            _, figure = await services.sentiment.trend_figure(result["symbol"], days=30)
        except (ServiceError, KnowledgeError, ToolError) as exc:
            notes.append(f"sentiment trend for {result['symbol']} unavailable: {exc}")
            continue
        elements.append(
            cl.Plotly(
                name=f"{result['symbol']} sentiment", figure=figure, display="inline", size="large"
            )
        )
    for served in served_forecasts(tools_used):
        symbol = served["symbol"]
        try:
            figure = await services.forecasts.chart(served)
        except (ServiceError, KnowledgeError, ToolError) as exc:
            notes.append(f"forecast chart for {symbol} unavailable: {exc}")
            continue
        elements.append(
            cl.Plotly(name=f"{symbol} forecast", figure=figure, display="inline", size="large")
        )
    return elements, notes
