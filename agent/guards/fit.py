"""Answer fit: the coins, date, horizon and engines a question asked are the ones the turn's
tools used; whatever was changed or left out is said in the answer.

Grounding checks that every figure comes from a tool; this checks that the tools answered the
question asked. What was asked is read from the question alone (the same entity rules as the
planner, so it holds in LLM mode too), what was used from the tool calls that ran. The verdict
goes to the response (`fit`) and the trace.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from agent.graph.state import ToolRun
from agent.offline.cues import SECONDARY_CUES
from agent.offline.entities import extract_entities
from agent.offline.intents import INTENT_PATTERNS
from agent.toolkit import BACKTEST, FORECAST_PRICE, PRICE_HISTORY, TABLE

ENGINE_WORDS = {
    "price": "the price",
    "technical": "the technical picture",
    "forecast": "a forecast",
    "sentiment": "the news mood",
}
HORIZON_RANGE = "a forecast horizon must be 1 to 30 days"
ACCURACY_PATTERNS = dict(INTENT_PATTERNS)["accuracy"]


class FitVerdict(BaseModel):
    """Whether the turn used what the question asked, and what the answer says where not."""

    fit: bool
    asked: dict[str, Any] = Field(default_factory=dict)
    used: dict[str, Any] = Field(default_factory=dict)
    said: list[str] = Field(default_factory=list)


def _asked(question: str, today: date | None) -> dict[str, Any]:
    ents = extract_entities(question, today=today)
    lowered = question.lower()
    engines = {kind for kind, cue in SECONDARY_CUES if re.search(cue, lowered)}
    if ents.indicators:
        engines.add("technical")
    if any(re.search(pattern, lowered) for pattern in ACCURACY_PATTERNS):
        engines -= {"forecast", "price"}  # a track-record question names forecasts and prices
    window = ents.window
    when = None
    if window is not None:
        same = window.start == window.end
        when = window.start.isoformat() if same else f"{window.start} to {window.end}"
    elif ents.as_of is not None:
        when = ents.as_of.isoformat()
    return {
        "coins": list(ents.symbols),
        "date": when,
        "horizon_days": ents.horizon_days if "forecast" in engines else None,
        "engines": sorted(engines),
    }


def _used(results: list[ToolRun]) -> dict[str, Any]:
    coins = [r["args"]["symbol"] for r in results if isinstance(r["args"].get("symbol"), str)]
    dates = [
        str(
            r["args"].get("start")
            if r["name"] in (PRICE_HISTORY, BACKTEST)
            else r["args"].get("as_of")
        )[:10]
        for r in results
        if r["args"].get("start") or r["args"].get("as_of")
    ]
    horizons = [r["args"].get("horizon_days") for r in results if r["name"] == FORECAST_PRICE]
    engines = {TABLE[r["name"]].engine for r in results if r["name"] in TABLE}
    return {
        "coins": list(dict.fromkeys(coins)),
        "dates": list(dict.fromkeys(dates)),
        "horizon_days": horizons[0] if horizons else None,
        "engines": sorted(e for e in engines if e),
    }


def check_fit(
    question: str, results: list[ToolRun], answer: str, *, today: date | None = None
) -> FitVerdict:
    """The fit of a turn's tool calls to its question; `said` holds the sentences the answer
    lacks (none is repeated that the answer already says)."""
    if not results:  # nothing was looked up: the answer says what it can do, or asks back
        return FitVerdict(fit=True)
    asked, used = _asked(question, today), _used(results)
    said: list[str] = []
    if used["coins"]:
        missing = [c for c in asked["coins"] if c not in used["coins"]]
        if missing:
            said.append(f"This answer does not cover {', '.join(missing)}; ask again for it.")
        engines = [e for e in asked["engines"] if e not in used["engines"]]
        if engines:
            words = " and ".join(ENGINE_WORDS[e] for e in engines)
            said.append(f"You also asked about {words}; this answer does not cover it.")
    if asked["date"] and not used["dates"] and used["coins"]:
        said.append(
            f"You asked about {asked['date']}, but these figures are the latest ones, not "
            "those of that date."
        )
    horizon, served = asked["horizon_days"], used["horizon_days"]
    changed = horizon is not None and served is not None and horizon != served
    if changed and "outside the supported" not in answer:  # the planner's note says it already
        said.append(
            f"You asked for {horizon} days ahead, but {HORIZON_RANGE}: this one is for {served}."
        )
    return FitVerdict(fit=not said, asked=asked, used=used, said=said)
