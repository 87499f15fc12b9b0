"""The typed arguments of each tool: the schema the model is shown and every call is checked
against (an argument outside it is refused before the tool runs)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agent.as_of import IsoDate, IsoDateOrTime
from agent.services.knowledge import KindName

SYMBOL_HELP = "coin symbol, ticker or name, e.g. BTC-USD, eth, solana"


class PriceArgs(BaseModel):
    """Arguments of the price tool."""

    symbol: str = Field(description=SYMBOL_HELP, max_length=32)
    period_days: int = Field(default=1, ge=1, le=3650, description="look-back window in days")
    interval: Literal["1d", "1h"] = Field(default="1d", description="bar size")
    as_of: IsoDateOrTime | None = Field(
        default=None, description="the close as of this date (default: the latest bar)"
    )


class PriceHistoryArgs(BaseModel):
    """Arguments of the price-history tool."""

    symbol: str = Field(description=SYMBOL_HELP, max_length=32)
    start: IsoDate = Field(description="first UTC day of the window, YYYY-MM-DD")
    end: IsoDate | None = Field(
        default=None, description="last UTC day of the window (default: the start day alone)"
    )
    interval: Literal["1d", "1h"] = Field(default="1d", description="bar size")


class TechnicalArgs(BaseModel):
    """Arguments of the technical-analysis tool."""

    symbol: str = Field(description=SYMBOL_HELP, max_length=32)
    interval: Literal["1d", "1h"] = Field(default="1d", description="daily or hourly bars")
    indicators: list[str] | None = Field(
        default=None,
        max_length=20,
        description="indicator groups (rsi, macd, bbands...); all if empty",
    )
    as_of: IsoDateOrTime | None = Field(default=None, description="analyse as of this date")


class ForecastArgs(BaseModel):
    """Arguments of the forecast tool."""

    symbol: str = Field(description=SYMBOL_HELP, max_length=32)
    horizon_days: int = Field(default=7, ge=1, le=30, description="days ahead, 1 to 30")


class AccuracyArgs(BaseModel):
    """Arguments of the forecast-accuracy tool."""

    symbol: str = Field(description=SYMBOL_HELP, max_length=32)
    period_days: int = Field(default=30, ge=1, le=3650, description="look-back window in days")


class ExplainArgs(BaseModel):
    """Arguments of the indicator-explanation tool."""

    name: str = Field(description="indicator name, e.g. rsi, macd, bollinger", max_length=40)


class SentimentArgs(BaseModel):
    """Arguments of the news-sentiment tool."""

    symbol: str = Field(description=SYMBOL_HELP, max_length=32)
    window_days: int = Field(default=7, ge=1, le=90, description="look-back window in days")


class KnowledgeSearchArgs(BaseModel):
    """Arguments of the knowledge-search tool."""

    query: str = Field(description="what to look up, in plain words", min_length=1, max_length=500)
    symbol: str | None = Field(default=None, max_length=32, description="only about this coin")
    kind: KindName | None = Field(
        default=None, description="guide, coin, news or model_card; any if empty"
    )


class BacktestArgs(BaseModel):
    """Arguments of the backtest tool."""

    symbol: str = Field(description=SYMBOL_HELP, max_length=32)
    rule: str = Field(
        default="stance",
        max_length=40,
        description="the signal: macd, rsi, ma_cross, bollinger, stochastic, williams_r, cci, mfi, "
        "sar, adx, trend, rsi_divergence, candlestick, stance (the summary), or golden_cross, "
        "death_cross, rsi_oversold, rsi_overbought",
    )
    start: IsoDate | None = Field(default=None, description="first day of the period")
    end: IsoDate | None = Field(default=None, description="last day of the period (default: now)")
    horizon_days: int | None = Field(
        default=None, ge=1, le=365, description="one forward horizon in days (default 1, 7, 30)"
    )
    fee_bps: float = Field(default=10.0, ge=0, le=1000, description="fee per trade, basis points")
    interval: Literal["1d", "1h"] = Field(default="1d", description="bar size")
