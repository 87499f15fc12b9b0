"""Keyless first when it is sure, and schema routing: the model fills the tool table's schema,
the calls run in code, the composer (or the model) writes the answer; with a scripted model and
in-process tools, as in `test_nodes`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from agent.graph import nodes
from agent.graph.builder import build_graph
from agent.graph.context import TurnContext
from agent.graph.prompts import FALLBACK_NOTE
from agent.graph.schema_turn import SCHEMA_FOOTER
from agent.offline.planner import ConversationContext, Plan, plan_turn
from agent.settings import Settings, load_settings
from agent.toolkit import GET_PRICE, TECHNICAL_ANALYSIS
from tests.fakes.chat_model import ScriptedChatModel
from tests.unit.agent.graph.test_nodes import TOOLS, runtime, runtime_of, state


def routed(*calls: tuple[str, dict[str, Any]]) -> AIMessage:
    """A routing reply as constrained decoding writes it."""
    return AIMessage(json.dumps({"calls": [{"tool": t, "args": a} for t, a in calls]}))


def schema_settings(**overrides: Any) -> Settings:
    values = {"llm_tool_mode": "schema", "llm_ask": "always"} | overrides
    return load_settings(_env_file=None, **values)


@pytest.fixture
def keyless_sure(monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], None]:
    """Make the keyless reading sure or unsure of the turn (its calls unchanged)."""

    def set_(confident: bool) -> None:
        def planner(text: str, context: ConversationContext) -> Plan:
            return plan_turn(text, context).model_copy(update={"confident": confident})

        monkeypatch.setattr(nodes, "plan_turn", planner)

    return set_


async def test_a_sure_keyless_reading_answers_without_the_model(
    keyless_sure: Callable[[bool], None],
) -> None:
    keyless_sure(True)
    model = ScriptedChatModel(replies=[])  # fails the test if it is called
    update = await nodes.understand(state("what's BTC at?"), {}, runtime(load_settings(), model))
    assert model.prompts == []
    assert update["mode"] == "offline" and update["pending"][0]["name"] == GET_PRICE


async def test_an_unsure_keyless_reading_asks_the_model(
    keyless_sure: Callable[[bool], None],
) -> None:
    keyless_sure(False)
    model = ScriptedChatModel(replies=[AIMessage("BTC, ETH and friends are all covered.")])
    update = await nodes.understand(state("what's BTC at?"), {}, runtime(load_settings(), model))
    assert len(model.prompts) == 1 and update["mode"] == "llm" and update["route"] == "native"


async def test_schema_mode_asks_for_the_schema_and_takes_the_calls() -> None:
    model = ScriptedChatModel(
        replies=[routed((TECHNICAL_ANALYSIS, {"symbol": "ETH", "indicators": ["rsi"]}))]
    )
    ctx = TurnContext.build(schema_settings(), TOOLS, model)
    assert ctx.tool_mode == "schema" and model.bound == []  # no tool binding in schema mode
    update = await nodes.understand(state("RSI of ether?"), {}, runtime_of(ctx))
    assert update["mode"] == "llm" and update["route"] == "schema"
    assert update["pending"] == [
        {
            "id": "route_0",
            "name": TECHNICAL_ANALYSIS,
            "args": {"symbol": "ETH", "indicators": ["rsi"]},
        }
    ]
    assert update["plan"]["intent"] == "technical" and update["plan"]["symbols"] == ["ETH-USD"]
    assert update["context"]["last_symbols"] == ["ETH-USD"]
    (options,) = model.options
    rf = options["response_format"]
    assert rf["type"] == "json_schema" and rf["json_schema"]["strict"] is True
    tools = [
        b["properties"]["tool"]["const"]
        for b in rf["json_schema"]["schema"]["properties"]["calls"]["items"]["anyOf"]
    ]
    assert tools == [GET_PRICE, TECHNICAL_ANALYSIS]  # the tools this process has, no others
    assert options["max_tokens"] > 0
    system, user = model.prompts[0]
    assert isinstance(system, SystemMessage) and "- get_price:" in str(system.content)
    assert "forecast_price" not in str(system.content)  # examples of missing tools are left out
    assert isinstance(user, HumanMessage) and user.content == "RSI of ether?"


async def test_a_follow_up_reaches_the_router_with_the_threads_questions_and_coins() -> None:
    model = ScriptedChatModel(replies=[routed((GET_PRICE, {"symbol": "SOL"}))])
    ctx = TurnContext.build(schema_settings(), TOOLS, model)
    earlier = state(
        "and for SOL?",
        messages=[
            HumanMessage("what's BTC at?"),
            AIMessage("BTC-USD ..."),
            HumanMessage("and for SOL?"),
        ],
        context=ConversationContext(last_symbols=["BTC-USD"]).model_dump(mode="json"),
    )
    await nodes.understand(earlier, {}, runtime_of(ctx))
    text = str(model.prompts[0][-1].content)
    assert (
        text
        == "Earlier messages: what's BTC at?\nCoins of the conversation: BTC\nMessage: and for SOL?"
    )


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (AIMessage("BTC is at 90,000."), "the model's routing reply is not JSON"),
        (AIMessage('{"calls": [{"tool": "sell_everything", "args": {}}]}'), "names no tool"),
        (TimeoutError("read timed out"), "timeout"),
    ],
)
async def test_schema_mode_falls_back_to_the_keyless_plan_and_says_why(
    reply: Any, reason: str
) -> None:
    ctx = TurnContext.build(schema_settings(), TOOLS, ScriptedChatModel(replies=[reply]))
    update = await nodes.understand(state("what's BTC at?"), {}, runtime_of(ctx))
    assert update["mode"] == "offline" and update["pending"][0]["name"] == GET_PRICE
    (note,) = [n for n in update["notes"] if n.startswith(FALLBACK_NOTE.split("(")[0])]
    assert reason in note


async def test_the_wired_graph_routes_once_and_the_composer_writes_the_answer() -> None:
    model = ScriptedChatModel(replies=[routed((GET_PRICE, {"symbol": "BTC", "period_days": None}))])
    final = await build_graph().ainvoke(
        state("btc price?"), context=TurnContext.build(schema_settings(), TOOLS, model)
    )
    assert len(model.prompts) == 1  # the model is not asked again after the tools
    assert final["mode"] == "llm" and final["route"] == "schema"
    assert [(r["name"], r["args"]["symbol"]) for r in final["results"]] == [(GET_PRICE, "BTC-USD")]
    assert "64,321.50 USD on 2025-12-31" in final["answer"] and final["grounding"]["grounded"]
    assert final["answer"].endswith(SCHEMA_FOOTER) and "Offline mode" not in final["answer"]


async def test_an_empty_routing_reply_keeps_the_keyless_answer_of_a_greeting() -> None:
    model = ScriptedChatModel(replies=[routed()])
    final = await build_graph().ainvoke(
        state("hello there"), context=TurnContext.build(schema_settings(), TOOLS, model)
    )
    assert final["results"] == [] and final["plan"]["intent"] == "smalltalk"
    assert final["answer"].startswith("Hello!") and final["answer"].endswith(SCHEMA_FOOTER)


async def test_the_model_writes_the_answer_from_the_results_when_asked_to() -> None:
    model = ScriptedChatModel(
        replies=[routed((GET_PRICE, {"symbol": "BTC"})), AIMessage("BTC is at 64,321.50 USD.")]
    )
    settings = schema_settings(llm_schema_answer="model")
    final = await build_graph().ainvoke(
        state("btc price?", messages=[HumanMessage("btc price?")]),
        context=TurnContext.build(settings, TOOLS, model),
    )
    assert final["answer"] == "BTC is at 64,321.50 USD." and final["grounding"]["grounded"]
    assert model.options[1] == {}  # the writer is the plain model: no schema, no tools
    request = str(model.prompts[1][-1].content)
    assert '"tool": "get_price"' in request and '"close": 64321.5' in request


async def test_a_failing_writer_leaves_the_answer_to_the_composer_with_a_note() -> None:
    model = ScriptedChatModel(
        replies=[routed((GET_PRICE, {"symbol": "BTC"})), TimeoutError("slow")]
    )
    final = await build_graph().ainvoke(
        state("btc price?"),
        context=TurnContext.build(schema_settings(llm_schema_answer="model"), TOOLS, model),
    )
    assert FALLBACK_NOTE.format(reason="timeout").rstrip(".") in final["answer"]
    assert "64,321.50 USD on 2025-12-31" in final["answer"]


async def test_a_coin_outside_the_catalogue_gets_no_stand_in_from_the_model() -> None:
    model = ScriptedChatModel(replies=[routed((GET_PRICE, {"symbol": "BTC"}))])
    ctx = TurnContext.build(schema_settings(), TOOLS, model)
    update = await nodes.understand(state("price of PEPE"), {}, runtime_of(ctx))
    assert len(model.prompts) == 1 and update["pending"] == []  # the schema knows no PEPE
    assert update["plan"]["unknown_symbols"] == ["PEPE"]
