"""Each node of the graph alone, with a scripted chat model and in-process tools (no services),
and the wired graph once end to end."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, SystemMessage, ToolMessage
from langchain_core.tools import StructuredTool
from langgraph.runtime import Runtime

from agent.graph import nodes
from agent.graph.builder import build_graph
from agent.graph.context import MAX_LLM_ROUNDS, TurnContext
from agent.graph.prompts import SYSTEM_PROMPT
from agent.graph.studio import with_context
from agent.settings import Settings, load_settings
from agent.toolkit import GET_PRICE, TECHNICAL_ANALYSIS
from agent.toolkit.args import PriceArgs, TechnicalArgs
from tests.fakes.chat_model import ScriptedChatModel, tool_call

CLOSE = 64_321.5


async def _quote(symbol: str, period_days: int = 1, **_: Any) -> dict[str, Any]:
    """A price summary of the shape `get_price` returns."""
    ticker = symbol.upper().removesuffix("-USD")
    return {"symbol": f"{ticker}-USD", "name": ticker, "close": CLOSE, "as_of": "2025-12-31",
            "change_pct": 1.25, "period_days": period_days, "low": 63_000.0, "high": 65_000.0,
            "stale": False, "freshness": "current"}  # fmt: skip


async def _broken(symbol: str, **_: Any) -> dict[str, Any]:
    raise ValueError(f"no bars stored for {symbol}")


TOOLS = [
    StructuredTool(name=GET_PRICE, description="quote", args_schema=PriceArgs, coroutine=_quote),
    StructuredTool(
        name=TECHNICAL_ANALYSIS, description="ta", args_schema=TechnicalArgs, coroutine=_broken
    ),
]


@pytest.fixture
def settings() -> Settings:
    return load_settings(_env_file=None)


@pytest.fixture
def asking(settings: Settings) -> Settings:
    """Settings that ask the model on every turn, even those the keyless planner is sure of."""
    return settings.model_copy(update={"llm_ask": "always"})


def runtime(
    settings: Settings, model: ScriptedChatModel | None = None, events: list[Any] | None = None
) -> Runtime[TurnContext]:
    return runtime_of(TurnContext.build(settings, TOOLS, model), events)


def runtime_of(ctx: TurnContext, events: list[Any] | None = None) -> Runtime[TurnContext]:
    """A node's runtime on `ctx`; streamed events go to `events`."""
    sink = events if events is not None else []
    return Runtime(context=ctx, stream_writer=sink.append)


def state(question: str, **fields: Any) -> dict[str, Any]:
    return {"question": question, "messages": [], "results": [], "notes": [], **fields}


async def test_offline_understand_plans_the_tools_this_process_has(settings: Settings) -> None:
    update = await nodes.understand(state("what's BTC at?"), {}, runtime(settings))
    assert update["mode"] == "offline"
    assert [(c["name"], c["args"]["symbol"]) for c in update["pending"]] == [(GET_PRICE, "BTC-USD")]
    assert update["context"]["last_symbols"] == ["BTC-USD"]
    # a planned call to a tool the process lacks (forecasts here) is dropped, not run
    advice = await nodes.understand(state("should I buy ETH?"), {}, runtime(settings))
    assert {c["name"] for c in advice["pending"]} == {GET_PRICE, TECHNICAL_ANALYSIS}


async def test_llm_understand_sends_the_system_prompt_and_takes_the_models_calls(
    asking: Settings,
) -> None:
    model = ScriptedChatModel(replies=[tool_call(GET_PRICE, {"symbol": "eth"})])
    update = await nodes.understand(state("price of ether"), {}, runtime(asking, model))
    assert model.bound == [GET_PRICE, TECHNICAL_ANALYSIS]
    assert isinstance(model.prompts[0][0], SystemMessage)
    assert model.prompts[0][0].content == SYSTEM_PROMPT
    assert update["mode"] == "llm" and update["llm_rounds"] == 1
    assert update["pending"] == [{"id": "c1", "name": GET_PRICE, "args": {"symbol": "eth"}}]


async def test_a_failing_model_or_a_spent_budget_falls_back_to_the_planner(
    asking: Settings,
) -> None:
    model = ScriptedChatModel(replies=[TimeoutError("read timed out")])
    update = await nodes.understand(state("what's BTC at?"), {}, runtime(asking, model))
    assert update["mode"] == "offline" and "timeout" in update["notes"][-1]
    assert update["pending"][0]["name"] == GET_PRICE
    spent = ScriptedChatModel(replies=[])  # would fail the test if it were called
    update = await nodes.understand(
        state("what's BTC at?", llm_rounds=MAX_LLM_ROUNDS), {}, runtime(asking, spent)
    )
    assert update["mode"] == "offline" and "budget" in update["notes"][-1]
    assert spent.prompts == []


async def test_call_tools_runs_checked_calls_and_answers_every_one(settings: Settings) -> None:
    events: list[Any] = []
    pending = [
        {"id": "a", "name": GET_PRICE, "args": {"symbol": "btc"}},
        {"id": "b", "name": TECHNICAL_ANALYSIS, "args": {"symbol": "btc"}},
        {"id": "c", "name": "transfer_funds", "args": {}},
        {"id": "d", "name": GET_PRICE, "args": {"symbol": "btc", "password": "x"}},
    ]
    update = await nodes.call_tools(
        state("q", mode="llm", pending=pending), {}, runtime(settings, events=events)
    )
    runs = {r["id"]: r for r in update["results"]}
    assert runs["a"]["ok"] and runs["a"]["result"]["close"] == CLOSE
    assert runs["a"]["args"]["symbol"] == "BTC-USD"  # the resolved symbol is reported
    assert not runs["b"]["ok"] and runs["b"]["error"] == "no bars stored for btc"
    assert "no tool named 'transfer_funds'" in runs["c"]["error"]
    assert "has no argument 'password'" in runs["d"]["error"]
    assert [e["type"] for e in events].count("tool_result") == 4
    answered = {m.tool_call_id for m in update["scratch"] if isinstance(m, ToolMessage)}
    assert answered == {"a", "b", "c", "d"}  # the model hears back about every call


async def test_call_tools_keeps_to_the_limit_per_turn(settings: Settings) -> None:
    limited = settings.model_copy(update={"max_tool_calls": 2})
    pending = [{"id": f"p{i}", "name": GET_PRICE, "args": {"symbol": "btc"}} for i in range(3)]
    update = await nodes.call_tools(state("q", mode="llm", pending=pending), {}, runtime(limited))
    assert len(update["results"]) == 2 and "only 2 of 3" in update["notes"][-1]
    skipped = [m for m in update["scratch"] if m.tool_call_id == "p2"]
    assert "limit of 2 tool calls" in json.loads(str(skipped[0].content))["error"]


async def test_ground_check_removes_a_figure_no_tool_gave_and_streams_the_rest(
    settings: Settings,
) -> None:
    events: list[Any] = []
    run = {"id": "a", "name": GET_PRICE, "args": {"symbol": "BTC-USD"}, "ok": True,
           "result": {"symbol": "BTC-USD", "close": CLOSE}, "error": None, "ms": 1.0}  # fmt: skip
    answer = "BTC closed at 64,321.50 USD. It will reach 250,000 USD next week."
    update = await nodes.ground_check(
        state("btc?", results=[run], answer=answer), runtime(settings, events=events)
    )
    assert "64,321.50" in update["answer"] and "250,000" not in update["answer"]
    assert update["grounding"]["grounded"] is False
    assert "".join(e["text"] for e in events if e["type"] == "token") == update["answer"]
    assert isinstance(update["messages"][-1], AIMessage)


async def test_the_wired_graph_runs_a_tool_round_and_answers_from_its_result(
    asking: Settings,
) -> None:
    model = ScriptedChatModel(
        replies=[tool_call(GET_PRICE, {"symbol": "btc"}), AIMessage("BTC is at 64,321.50 USD.")]
    )
    graph = build_graph()
    ctx = TurnContext.build(asking, TOOLS, model)
    final = await graph.ainvoke(state("btc price?"), context=ctx)
    assert final["answer"] == "BTC is at 64,321.50 USD." and final["grounding"]["grounded"]
    assert [r["name"] for r in final["results"]] == [GET_PRICE]
    assert isinstance(model.prompts[1][-1], ToolMessage)  # the second round saw the result


async def test_a_graph_given_its_context_runs_without_one_per_run(settings: Settings) -> None:
    """LangGraph Studio runs the graph without our context: the one bound to it is used."""
    graph = with_context(build_graph(), TurnContext.build(settings, TOOLS, None))
    final = await graph.ainvoke(state("what's BTC at?"))
    assert final["mode"] == "offline" and [r["name"] for r in final["results"]] == [GET_PRICE]
    assert "64,321.50 USD on 2025-12-31" in final["answer"] and final["grounding"]["grounded"]
