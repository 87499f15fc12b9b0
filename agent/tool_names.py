"""The agent's tool names, declared once: the tools, the planner, the composer, the chat's
sources and the web chat's steps and charts all refer to them."""

from __future__ import annotations

GET_PRICE = "get_price"
TECHNICAL_ANALYSIS = "technical_analysis"
FORECAST_PRICE = "forecast_price"
FORECAST_ACCURACY = "forecast_accuracy"
EXPLAIN_INDICATOR = "explain_indicator"
NEWS_SENTIMENT = "news_sentiment"
SEARCH_KNOWLEDGE = "search_knowledge"

__all__ = [
    "EXPLAIN_INDICATOR",
    "FORECAST_ACCURACY",
    "FORECAST_PRICE",
    "GET_PRICE",
    "NEWS_SENTIMENT",
    "SEARCH_KNOWLEDGE",
    "TECHNICAL_ANALYSIS",
]
