"""The agent's tools: LangChain tools with typed arguments over the services.

Each returns a JSON-ready dict; the graph runs them, in parallel, and turns any failure into a
readable message instead of failing the turn. Later engines (forecast, sentiment, knowledge)
add their tools here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from agent import tool_names as names
from agent.as_of import IsoDateOrTime
from agent.services.forecast import ForecastService
from agent.services.knowledge import KnowledgeService, build_knowledge_tool
from agent.services.market import MarketService
from agent.services.sentiment import SentimentService, build_sentiment_tool
from agent.services.technical import TechnicalService
from tools.indicators import resolve_groups
from tools.indicators.glossary import describe

SYMBOL_HELP = "coin symbol, ticker or name, e.g. BTC-USD, eth, solana"


class PriceArgs(BaseModel):
    """Arguments of `get_price`."""

    symbol: str = Field(description=SYMBOL_HELP, max_length=32)
    period_days: int = Field(default=1, ge=1, le=3650, description="look-back window in days")
    interval: Literal["1d", "1h"] = Field(default="1d", description="bar size")
    as_of: IsoDateOrTime | None = Field(
        default=None, description="the close as of this date (default: the latest bar)"
    )


class TechnicalArgs(BaseModel):
    """Arguments of `technical_analysis`."""

    symbol: str = Field(description=SYMBOL_HELP, max_length=32)
    interval: Literal["1d", "1h"] = Field(default="1d", description="daily or hourly bars")
    indicators: list[str] | None = Field(
        default=None,
        max_length=20,
        description="indicator groups (rsi, macd, bbands...); all if empty",
    )
    as_of: IsoDateOrTime | None = Field(default=None, description="analyse as of this date")


class ForecastArgs(BaseModel):
    """Arguments of `forecast_price`."""

    symbol: str = Field(description=SYMBOL_HELP, max_length=32)
    horizon_days: int = Field(default=7, ge=1, le=30, description="days ahead, 1 to 30")


class AccuracyArgs(BaseModel):
    """Arguments of `forecast_accuracy`."""

    symbol: str = Field(description=SYMBOL_HELP, max_length=32)
    period_days: int = Field(default=30, ge=1, le=3650, description="look-back window in days")


class ExplainArgs(BaseModel):
    """Arguments of `explain_indicator`."""

    name: str = Field(description="indicator name, e.g. rsi, macd, bollinger", max_length=40)


def _condense_report(report: dict[str, Any]) -> dict[str, Any]:
    """The parts of a technical report an answer needs (keeps LLM prompts small)."""
    fired = [p for p in report.get("patterns", []) if p.get("fired_latest")]
    return {
        "symbol": report["symbol"],
        "interval": report["interval"],
        "as_of": report["as_of"],
        "values": report["values"],
        "unavailable": report["unavailable"],
        "summary": {k: report["summary"][k] for k in ("stance", "score", "text")},
        "signals": [
            {k: s.get(k) for k in ("name", "action", "reason", "date")} for s in report["signals"]
        ],
        "levels": report["levels"],
        "patterns_latest_bar": [{"name": p["name"], "direction": p["direction"]} for p in fired],
    }


def build_tools(
    market: MarketService,
    technical: TechnicalService,
    forecasts: ForecastService,
    sentiment: SentimentService,
    knowledge: KnowledgeService,
) -> list[BaseTool]:
    """The tools available now, bound to this process's services."""

    async def get_price(
        symbol: str,
        period_days: int = 1,
        interval: str = "1d",
        as_of: date | datetime | None = None,
    ) -> dict[str, Any]:
        return await market.price_summary(symbol, period_days, interval, as_of)  # type: ignore[arg-type]

    async def technical_analysis(
        symbol: str,
        interval: str = "1d",
        indicators: list[str] | None = None,
        as_of: date | datetime | None = None,
    ) -> dict[str, Any]:
        # the full panel always, so the stance matches the chart; asked-for groups are the focus
        report = await technical.report(symbol, interval=interval, as_of=as_of)  # type: ignore[arg-type]
        return _condense_report(report) | {
            "focus": resolve_groups(indicators) if indicators else []
        }

    async def forecast_price(symbol: str, horizon_days: int = 7) -> dict[str, Any]:
        return await forecasts.forecast(symbol, horizon_days)

    async def forecast_accuracy(symbol: str, period_days: int = 30) -> dict[str, Any]:
        return await forecasts.accuracy(symbol, period_days)

    async def explain_indicator(name: str) -> dict[str, Any]:
        return describe(name).model_dump()

    tools: list[BaseTool] = [
        StructuredTool.from_function(
            coroutine=get_price,
            name=names.GET_PRICE,
            description="Latest stored close of a coin and its change, high and low over a "
            "look-back window; says when the data is stale.",
            args_schema=PriceArgs,
        ),
        StructuredTool.from_function(
            coroutine=technical_analysis,
            name=names.TECHNICAL_ANALYSIS,
            description="TA-Lib indicators (RSI, MACD, Bollinger, moving averages, stochastic, "
            "ADX, ATR, OBV, MFI, CCI, ROC, SAR, candlestick patterns) on stored bars, with "
            "buy/sell/hold signals and their reasons, a summary stance, support and resistance.",
            args_schema=TechnicalArgs,
        ),
        StructuredTool.from_function(
            coroutine=forecast_price,
            name=names.FORECAST_PRICE,
            description="LSTM forecast of the daily close for the next 1-30 days with an 80% "
            "interval, and the model's out-of-sample skill against the naive 'tomorrow = today' "
            "forecast (say plainly when skill is not positive).",
            args_schema=ForecastArgs,
        ),
        StructuredTool.from_function(
            coroutine=forecast_accuracy,
            name=names.FORECAST_ACCURACY,
            description="How accurate past forecasts were: realised errors of served forecasts "
            "over a period (scored when the actual close arrived) and the model's walk-forward "
            "backtest against naive.",
            args_schema=AccuracyArgs,
        ),
        StructuredTool.from_function(
            coroutine=explain_indicator,
            name=names.EXPLAIN_INDICATOR,
            description="What a technical indicator measures, how it is computed, how to read "
            "it and its traps.",
            args_schema=ExplainArgs,
        ),
        build_sentiment_tool(sentiment),
        build_knowledge_tool(knowledge),
    ]
    return tools
