"""What a thread remembers between turns, for follow-ups ("and for ETH?", "the day before?")."""

from __future__ import annotations

from pydantic import BaseModel, Field

from agent.offline.dates import DateWindow
from agent.offline.intents import Intent


class ConversationContext(BaseModel):
    """What the thread remembers between turns; JSON-serialisable for the graph checkpoint."""

    last_symbols: list[str] = Field(default_factory=list)
    last_intent: Intent | None = None
    last_interval: str | None = None
    last_indicators: list[str] = Field(default_factory=list)
    last_horizon_days: int | None = None
    last_period_days: int | None = None
    last_window: DateWindow | None = None  # the past days the last price question was about
    last_also: list[Intent] = Field(default_factory=list)  # engines asked besides the intent
    turn: int = 0
