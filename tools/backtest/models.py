"""Result models of the backtests (what `POST /backtest` serialises and the agent reads).

Returns are fractions (0.05 = +5%). A figure that cannot be computed is `None`, never NaN, so
`json.dumps(..., allow_nan=False)` of `model_dump(mode="json")` always succeeds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from tools.indicators.models import TrackRecord

__all__ = [
    "BacktestReport",
    "EquityPoint",
    "EventStats",
    "RuleRecord",
    "StrategyReport",
    "StrategyStats",
    "TrackRecord",
]

Side = Literal["buy", "sell"]
Mode = Literal["long_flat", "long_short"]


class EventStats(BaseModel):
    """What followed the onsets of one side of a rule, over one horizon, against all days."""

    side: Side
    horizon: int = Field(description="Bars from the entry (the next open) to the exit open.")
    n: int = Field(description="Occurrences with a complete forward window.")
    enough: bool = Field(description="False: too few occurrences to say anything.")
    days: int = Field(description="Bars of the period with a complete forward window.")
    hit_rate: float | None = Field(
        default=None, description="Share of occurrences followed by a move in the signal's way."
    )
    base_hit_rate: float | None = Field(
        default=None, description="The same share over every bar of the period."
    )
    mean_return: float | None = None
    median_return: float | None = None
    base_mean_return: float | None = None
    edge: float | None = Field(default=None, description="Mean return minus the base mean.")
    ci_low: float | None = Field(
        default=None, description="95% interval of the edge, from the randomisation test."
    )
    ci_high: float | None = None
    t_stat: float | None = Field(
        default=None, description="The edge over the spread of edges of time-shifted events."
    )
    p_value: float | None = Field(
        default=None, description="Share of time-shifted events with an edge at least as large."
    )
    significant: bool = False
    favourable: bool = Field(
        default=False, description="The edge points the signal's way (up for buy, down for sell)."
    )


class StrategyStats(BaseModel):
    """One position series over the period, net of costs."""

    total_return: float
    annual_return: float | None
    volatility: float | None = Field(description="Annualised standard deviation of returns.")
    sharpe: float | None = Field(description="Annualised, with a zero risk-free rate.")
    max_drawdown: float = Field(description="Worst fall from a peak of the equity (<= 0).")
    exposure: float = Field(description="Share of bars with a position.")
    trades: int = Field(description="Positions opened (a flip from short to long counts one).")


class EquityPoint(BaseModel):
    """Equity (1.0 at the start) of each series at one bar."""

    date: str
    long_flat: float
    long_short: float
    buy_hold: float


class StrategyReport(BaseModel):
    """Long/flat and long/short on the rule against buy-and-hold over the same bars."""

    fee_bps: float
    slippage_bps: float
    long_flat: StrategyStats
    long_short: StrategyStats
    buy_hold: StrategyStats
    beats_buy_hold: bool = Field(description="Long/flat ended above buy-and-hold.")
    equity: list[EquityPoint] = Field(default_factory=list)


class RuleRecord(BaseModel):
    """The event study of one rule: buy and sell onsets at each horizon."""

    rule: str
    buy: list[EventStats]
    sell: list[EventStats]


class BacktestReport(BaseModel):
    """An event study and a strategy backtest of one rule (or the stance) on one symbol."""

    symbol: str
    interval: Literal["1d", "1h"]
    rule: str
    start: datetime = Field(description="First bar of the period (UTC).")
    end: datetime = Field(description="Last bar used (UTC); no price after it is read.")
    bars: int
    current: Literal["buy", "sell", "hold"] | None = Field(
        default=None, description="The rule's reading on the last bar (None: no signal)."
    )
    events: RuleRecord
    strategy: StrategyReport
    notes: list[str] = Field(default_factory=list)
