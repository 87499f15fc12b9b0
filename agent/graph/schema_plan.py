"""The plan of a schema-routed turn: the model's tool calls read as a `Plan`, with what the
keyless reading knows besides (advice or comparison framing, coins outside the catalogue, a
follow-up), so the offline composer writes the answer and the thread remembers the turn."""

from __future__ import annotations

from datetime import date
from typing import Any

from agent import toolkit as names
from agent.offline.calls import DEFAULT_INTERVAL, PlannedCall
from agent.offline.dates import DateWindow
from agent.offline.intents import Intent
from agent.offline.planner import DEFAULT_HORIZON_DAYS, Plan
from knowledge.market.symbols import find_coin

# the kind of question each tool answers, as the composer and the thread's memory name it
TOOL_INTENTS: dict[str, Intent] = {
    names.GET_PRICE: "price",
    names.PRICE_HISTORY: "price",
    names.TECHNICAL_ANALYSIS: "technical",
    names.FORECAST_PRICE: "forecast",
    names.FORECAST_ACCURACY: "accuracy",
    names.BACKTEST: "backtest",
    names.NEWS_SENTIMENT: "sentiment",
    names.EXPLAIN_INDICATOR: "explain",
    names.SEARCH_KNOWLEDGE: "explain",
}
ADVICE_ENGINES: frozenset[str] = frozenset({"price", "technical", "forecast", "sentiment"})
COMPARE_TOOLS = frozenset({names.GET_PRICE, names.TECHNICAL_ANALYSIS})
INTERVAL_TOOLS = frozenset({names.GET_PRICE, names.PRICE_HISTORY, names.TECHNICAL_ANALYSIS})


def _first(calls: list[dict[str, Any]], key: str, tools: frozenset[str] | None = None) -> Any:
    """The first value of argument `key` among the calls (of `tools`, when given)."""
    for call in calls:
        if (tools is None or call["name"] in tools) and call["args"].get(key) is not None:
            return call["args"][key]
    return None


def _day(value: Any) -> date | None:
    """The day of a date or date-time argument ("2024-03-01", "2024-03-01T12:00:00Z")."""
    return date.fromisoformat(str(value)[:10]) if value is not None else None


def _framing(keyless: Plan, intents: list[Intent], tools: set[str]) -> tuple[Intent, list[Intent]]:
    """The turn's intent and the engines asked besides: the keyless framing of a buy/sell
    question or a comparison when the model's calls fit it, else the kinds of the calls."""
    if keyless.intent == "advice" and set(intents) <= ADVICE_ENGINES:
        return "advice", []
    if keyless.intent == "compare" and names.GET_PRICE in tools and tools <= COMPARE_TOOLS:
        return "compare", []
    if keyless.intent in intents:
        return keyless.intent, [i for i in intents if i != keyless.intent]
    return intents[0], intents[1:]


def plan_from_calls(keyless: Plan, calls: list[dict[str, Any]]) -> Plan:
    """The plan the model's `calls` amount to; `keyless` is the keyless reading of the turn."""
    if not calls:  # no tool answers it: the keyless reply when it needs none, else the menu
        if not keyless.tool_calls:
            return keyless
        return keyless.model_copy(
            update={"intent": "unknown", "also": [], "tool_calls": [], "notes": [], "missing": []}
        )
    valid = [call for call in calls if not call.get("invalid")]
    intents = list(dict.fromkeys(TOOL_INTENTS.get(call["name"], "unknown") for call in calls))
    intent, also = _framing(keyless, intents, {call["name"] for call in calls})
    symbols = [
        coin.symbol for call in valid if (coin := find_coin(str(call["args"].get("symbol", ""))))
    ]
    history = next((call["args"] for call in valid if call["name"] == names.PRICE_HISTORY), None)
    window = None
    if history is not None:
        start = _day(history["start"])
        window = DateWindow(start=start, end=_day(history.get("end")) or start)  # type: ignore[arg-type]
    technical = [call for call in valid if call["name"] == names.TECHNICAL_ANALYSIS]
    forecast = any(call["name"] == names.FORECAST_PRICE for call in calls)
    explained = [names.SEARCH_KNOWLEDGE, names.EXPLAIN_INDICATOR]
    concept = _first(valid, "query", frozenset(explained)) or _first(valid, "name")
    unknown = keyless.unknown_symbols
    interval = _first(valid, "interval", INTERVAL_TOOLS)
    return Plan(
        intent=intent,
        symbols=list(dict.fromkeys(symbols)),
        interval=interval
        or (DEFAULT_INTERVAL if INTERVAL_TOOLS & {c["name"] for c in valid} else None),
        period_days=_first(valid, "period_days"),
        horizon_days=_first(valid, "horizon_days") or (DEFAULT_HORIZON_DAYS if forecast else None),
        indicators=list(technical[0]["args"].get("indicators") or []) if technical else [],
        as_of=_day(_first(valid, "as_of")),
        window=window if intent == "price" else None,
        also=also,
        unknown_symbols=unknown,
        concept=concept or keyless.concept,
        is_followup=keyless.is_followup,
        confident=keyless.confident,
        tool_calls=[PlannedCall(name=call["name"], args=call["args"]) for call in valid],
        notes=[f"I have no data on {', '.join(unknown)}, so the answer leaves it out"]
        if unknown and symbols
        else [],
    )
