"""A schema-routed turn's calls read as the plan the composer and the thread's memory use."""

from __future__ import annotations

from datetime import date
from typing import Any

from agent.graph.schema_plan import plan_from_calls
from agent.offline.dates import DateWindow
from agent.offline.planner import ConversationContext, Plan
from agent.toolkit import (
    FORECAST_PRICE,
    GET_PRICE,
    NEWS_SENTIMENT,
    PRICE_HISTORY,
    SEARCH_KNOWLEDGE,
    TECHNICAL_ANALYSIS,
)


def call(name: str, index: int = 0, **args: Any) -> dict[str, Any]:
    return {"id": f"route_{index}", "name": name, "args": args}


def keyless(intent: str = "price", **fields: Any) -> Plan:
    return Plan.model_validate({"intent": intent, **fields})


def test_the_calls_give_the_intent_coins_and_parameters() -> None:
    plan = plan_from_calls(
        keyless("unknown"),
        [
            call(TECHNICAL_ANALYSIS, symbol="ETH", indicators=["rsi"], interval="1h"),
            call(NEWS_SENTIMENT, 1, symbol="eth"),
            call(FORECAST_PRICE, 2, symbol="SOL"),
        ],
    )
    assert (plan.intent, plan.also) == ("technical", ["sentiment", "forecast"])
    assert plan.symbols == ["ETH-USD", "SOL-USD"] and plan.interval == "1h"
    assert plan.indicators == ["rsi"] and plan.horizon_days == 7  # the forecast's default
    assert [c.name for c in plan.tool_calls] == [TECHNICAL_ANALYSIS, NEWS_SENTIMENT, FORECAST_PRICE]
    memory = plan.updated_context(ConversationContext())
    assert memory.last_intent == "technical" and memory.last_symbols == ["ETH-USD", "SOL-USD"]


def test_the_keyless_framing_of_advice_and_comparisons_is_kept_when_the_calls_fit() -> None:
    advice = [call(t, i, symbol="ADA") for i, t in enumerate((GET_PRICE, TECHNICAL_ANALYSIS))]
    assert plan_from_calls(keyless("advice"), advice).intent == "advice"
    compare = [call(GET_PRICE, 0, symbol="BTC"), call(GET_PRICE, 1, symbol="ETH")]
    plan = plan_from_calls(keyless("compare"), compare)
    assert (plan.intent, plan.also, plan.symbols) == ("compare", [], ["BTC-USD", "ETH-USD"])
    # a comparison of forecasts is written tool by tool, not as quote lines
    forecasts = [call(FORECAST_PRICE, 0, symbol="BTC"), call(FORECAST_PRICE, 1, symbol="ETH")]
    assert plan_from_calls(keyless("compare"), forecasts).intent == "forecast"


def test_a_past_window_and_a_searched_concept_are_read_from_the_calls() -> None:
    plan = plan_from_calls(keyless(), [call(PRICE_HISTORY, symbol="LINK", start="2024-03-01")])
    assert plan.window == DateWindow(start=date(2024, 3, 1), end=date(2024, 3, 1))
    assert plan.updated_context(ConversationContext()).last_window == plan.window
    explain = plan_from_calls(keyless("explain"), [call(SEARCH_KNOWLEDGE, query="proof of stake")])
    assert (explain.intent, explain.concept) == ("explain", "proof of stake")


def test_invalid_calls_run_but_shape_nothing_and_uncovered_coins_are_said() -> None:
    calls = [
        call(GET_PRICE, 0, symbol="BTC"),
        {**call(GET_PRICE, 1, symbol="ETH", as_of="2023-02-30"), "invalid": "refused"},
    ]
    plan = plan_from_calls(keyless(unknown_symbols=["FLOKI"]), calls)
    assert plan.symbols == ["BTC-USD"] and plan.as_of is None
    assert plan.notes == ["I have no data on FLOKI, so the answer leaves it out"]


def test_no_call_keeps_a_toolless_keyless_reply_and_otherwise_says_what_it_can_do() -> None:
    greeting = keyless("smalltalk")
    assert plan_from_calls(greeting, []) is greeting
    wanted = keyless(symbols=["BTC-USD"], tool_calls=[{"name": GET_PRICE, "args": {}}])
    plan = plan_from_calls(wanted, [])
    assert plan.intent == "unknown" and plan.tool_calls == [] and plan.symbols == ["BTC-USD"]
