"""The agent's tools, declared once in `agent.toolkit.table` and bound to the services by
`build_tools`."""

from agent.toolkit.build import bind, build_tools
from agent.toolkit.table import (
    BACKTEST,
    EXPLAIN_INDICATOR,
    FORECAST_ACCURACY,
    FORECAST_PRICE,
    GET_PRICE,
    NEWS_SENTIMENT,
    PRICE_HISTORY,
    SEARCH_KNOWLEDGE,
    TABLE,
    TECHNICAL_ANALYSIS,
    TOOLS,
    Chart,
    Engines,
    ToolSpec,
)

__all__ = [
    "BACKTEST",
    "EXPLAIN_INDICATOR",
    "FORECAST_ACCURACY",
    "FORECAST_PRICE",
    "GET_PRICE",
    "NEWS_SENTIMENT",
    "PRICE_HISTORY",
    "SEARCH_KNOWLEDGE",
    "TABLE",
    "TECHNICAL_ANALYSIS",
    "TOOLS",
    "Chart",
    "Engines",
    "ToolSpec",
    "bind",
    "build_tools",
]
