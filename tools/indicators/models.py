"""Result models of the technical engine (what the API serialises and the agent reads).

Every float in these models is finite or `None`, so `json.dumps(..., allow_nan=False)` of
`model_dump(mode="json")` always succeeds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Action = Literal["buy", "sell", "hold"]
Stance = Literal["strong_bearish", "bearish", "neutral", "bullish", "strong_bullish"]
Interval = Literal["1d", "1h"]
Direction = Literal["bullish", "bearish", "neutral"]
Family = Literal["trend", "oscillator", "price_action"]


class TrackRecord(BaseModel):
    """What followed this signal's past onsets (from `tools.backtest`): n, how often the coin
    moved the signal's way `horizon` bars later against all days, and whether the difference
    is significant. `enough` False means too few occurrences: no figures."""

    side: Literal["buy", "sell"]
    horizon: int
    n: int
    enough: bool
    since: str | None = Field(default=None, description="First bar of the history searched.")
    hit_rate: float | None = None
    base_hit_rate: float | None = None
    mean_return: float | None = None
    base_mean_return: float | None = None
    edge: float | None = None
    t_stat: float | None = None
    p_value: float | None = None
    significant: bool = False
    favourable: bool = False


class Signal(BaseModel):
    """One rule's verdict with the sentence that justifies it."""

    name: str
    family: Family = Field(description="Rule family: trend, oscillator or price_action.")
    action: Action
    reason: str
    value: float | None = None
    date: str | None = Field(
        default=None, description="When the event the rule cites happened (e.g. a crossover)."
    )
    track_record: TrackRecord | None = Field(
        default=None,
        description="History of this rule's onsets on the same side (none for hold).",
    )


class Summary(BaseModel):
    """All signals folded into one stance.

    `families` holds each family's mean vote (buy +1, hold 0, sell -1); `score` is their
    weighted mean (price action counts half). See `tools.indicators.summary`.
    """

    stance: Stance
    score: float = Field(ge=-1.0, le=1.0)
    families: dict[str, float] = Field(default_factory=dict)
    rules: list[str] = Field(description="Names of the signals that agree with the stance.")
    text: str
    buy: int = 0
    sell: int = 0
    hold: int = 0
    track_record: TrackRecord | None = Field(
        default=None, description="History of the stance turning to this side (none if neutral)."
    )


class Levels(BaseModel):
    """Nearest swing support/resistance (nearest first) and classic pivot points."""

    support: list[float] = Field(default_factory=list)
    resistance: list[float] = Field(default_factory=list)
    pivots: dict[str, float] = Field(default_factory=dict)
    pivot_basis: str | None = Field(
        default=None, description="Date of the completed bar the pivots were computed from."
    )


class PatternHit(BaseModel):
    """A candlestick pattern: did it fire on the latest bar, and when was it last seen."""

    name: str
    label: str
    fired_latest: bool
    direction: Direction | None = Field(
        default=None, description="Direction at the latest occurrence (None if never seen)."
    )
    last_seen: str | None = None
    bars_ago: int | None = None
    occurrences: int = Field(default=0, description="Occurrences within the lookback window.")


class TechnicalReport(BaseModel):
    """The full point-in-time technical picture of one symbol."""

    symbol: str
    interval: Interval
    as_of: datetime = Field(description="Timestamp (UTC) of the last bar used.")
    bars_used: int
    values: dict[str, float | None]
    unavailable: dict[str, str] = Field(
        default_factory=dict, description="Why each `None` value could not be computed."
    )
    signals: list[Signal] = Field(default_factory=list)
    summary: Summary
    levels: Levels
    patterns: list[PatternHit] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
