"""Charts beside a turn's answer, as inline Chainlit Plotly elements.

Which tools draw a chart, and how, is declared in the tool table (`agent.toolkit`, each tool's
`chart`): the candles come from the technical service with the same symbol, bar size and
`as_of` as the analysis, so the chart shows exactly the bars the readings were computed on; the
forecast chart draws the forecast the answer quotes, never a new one.
"""

from __future__ import annotations

import logging
from typing import Any

import chainlit as cl

from agent.core import Services
from agent.errors import AppError
from agent.toolkit import FORECAST_PRICE, TABLE, ToolSpec

log = logging.getLogger(__name__)
MAX_CHARTS = 3  # per tool and turn

Figure = tuple[ToolSpec, tuple[Any, ...], dict[str, Any]]


def turn_figures(tools_used: list[dict[str, Any]]) -> list[Figure]:
    """The distinct figures of a turn's successful calls: (tool, what it shows, result), at most
    `MAX_CHARTS` per tool, in call order."""
    found: dict[tuple[str, tuple[Any, ...]], Figure] = {}
    per_tool: dict[str, int] = {}
    for use in tools_used:
        spec = TABLE.get(str(use.get("name")))
        result = use.get("result")
        if spec is None or spec.chart is None or not use.get("ok") or not isinstance(result, dict):
            continue
        key = spec.chart.key(use.get("args") or {}, result)
        if key is None or (spec.name, key) in found or per_tool.get(spec.name, 0) >= MAX_CHARTS:
            continue
        per_tool[spec.name] = per_tool.get(spec.name, 0) + 1
        found[(spec.name, key)] = (spec, key, result)
    return list(found.values())


def served_forecasts(tools_used: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The forecasts the turn served, one per symbol and horizon (what the chart draws)."""
    return [result for spec, _, result in turn_figures(tools_used) if spec.name == FORECAST_PRICE]


async def chart_elements(
    services: Services, tools_used: list[dict[str, Any]]
) -> tuple[list[cl.Plotly], list[str]]:
    """Inline charts for the turn, and a note for each chart that could not be drawn."""
    elements: list[cl.Plotly] = []
    notes: list[str] = []
    engines = services.engines()
    for spec, key, result in turn_figures(tools_used):
        assert spec.chart is not None  # turn_figures keeps only tools that draw
        name = spec.chart.name(key)
        try:
            figure = await spec.chart.draw(engines, key, result)
        except AppError as exc:
            log.warning("%s failed: %s", name, exc)
            notes.append(f"{name} unavailable: {exc}")
            continue
        elements.append(cl.Plotly(name=name, figure=figure, display="inline", size="large"))
    return elements, notes
