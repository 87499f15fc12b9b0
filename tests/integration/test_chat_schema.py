"""Schema routing end to end with the real langchain-openai client against the scripted
OpenAI-compatible server on loopback (`auto` picks schema mode there): the request the client
builds, the calls run on Postgres data, the composer's grounded answer, keyless-first turns."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from agent.core import Services
from agent.graph.chat import ChatService
from agent.graph.schema_turn import SCHEMA_FOOTER
from agent.offline.planner import ConversationContext, plan_turn
from agent.settings import Settings
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv
from tests.fakes.openai_server import FakeOpenAI, Reply, say, tool_messages

OpenChat = Callable[..., Awaitable[ChatService]]


@pytest.fixture
async def open_chat(
    make_settings: Callable[..., Settings], llm_server: FakeOpenAI, tmp_path: Path
) -> AsyncIterator[OpenChat]:
    """Services with `openai:` on the loopback server (no key: a local server needs none)."""
    built: list[Services] = []

    async def open_(**overrides: Any) -> ChatService:
        values = {
            "llm_model": "openai:qwen-local",
            "openai_base_url": llm_server.base_url,
            "llm_timeout_seconds": 5.0,
            "llm_max_retries": 0,
        }
        services = Services.build(make_settings(**(values | overrides)))
        built.append(services)
        for name, seed in (("BTC-USD", 5), ("ETH-USD", 6)):
            import_file(
                services.prices, write_csv(tmp_path, f"{name}.csv", synthetic_bars(400, seed=seed))
            )
        return await services.start_chat()

    yield open_
    for services in built:
        await services.aclose()


def routed(*calls: tuple[str, dict[str, Any]]) -> Reply:
    return say(json.dumps({"calls": [{"tool": t, "args": a} for t, a in calls]}))


async def test_a_loopback_server_routes_by_schema_and_the_composer_answers(
    open_chat: OpenChat, llm_server: FakeOpenAI
) -> None:
    llm_server.script(
        routed(
            (
                "technical_analysis",
                {"symbol": "ETH", "interval": None, "indicators": ["rsi"], "as_of": None},
            ),
            ("news_sentiment", {"symbol": "ETH", "window_days": None}),
        )
    )
    chat = await open_chat(llm_ask="always")

    result = await chat.reply(
        "schema-1", "What is the RSI of ETH and is the news mood bullish?", "api"
    )

    assert result.mode == "llm"
    assert [(t.name, t.args["symbol"]) for t in result.tools_used] == [
        ("technical_analysis", "ETH-USD"),
        ("news_sentiment", "ETH-USD"),
    ]
    rsi = result.tools_used[0].result["values"]["rsi_14"]
    assert f"RSI 14 {rsi:.1f}" in result.answer and result.grounded
    assert result.answer.endswith(SCHEMA_FOOTER)
    (request,) = llm_server.chat_requests  # one routing request; no second round
    body = request.body
    assert "tools" not in body and tool_messages(body) == []
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["name"] == "tool_calls"
    branches = fmt["json_schema"]["schema"]["properties"]["calls"]["items"]["anyOf"]
    assert {b["properties"]["tool"]["const"] for b in branches} >= {"get_price", "news_sentiment"}
    assert body["max_completion_tokens"] == 512 and body["temperature"] == 0
    assert body["messages"][0]["role"] == "system" and "Tools:" in body["messages"][0]["content"]
    assert request.headers["authorization"] == "Bearer local"  # no key set: a placeholder


async def test_a_follow_up_is_remembered_from_the_routed_plan(
    open_chat: OpenChat, llm_server: FakeOpenAI
) -> None:
    llm_server.script(
        routed(
            ("get_price", {"symbol": "BTC", "period_days": None, "interval": None, "as_of": None})
        ),
        routed(
            ("get_price", {"symbol": "ETH", "period_days": None, "interval": None, "as_of": None})
        ),
    )
    chat = await open_chat(llm_ask="always")
    await chat.reply("schema-2", "what's BTC at?", "api")
    second = await chat.reply("schema-2", "and ETH?", "api")
    assert [t.args["symbol"] for t in second.tools_used] == ["ETH-USD"]
    follow_up = llm_server.chat_requests[1].body["messages"][-1]["content"]
    assert follow_up.startswith("Earlier messages: what's BTC at?\nCoins of the conversation: BTC")


async def test_a_question_the_keyless_router_is_sure_of_never_reaches_the_model(
    open_chat: OpenChat, llm_server: FakeOpenAI
) -> None:
    question = "What is the RSI of BTC?"
    assert plan_turn(question, ConversationContext()).confident  # the keyless router is sure
    chat = await open_chat()  # LLM_ASK=unsure, the default
    result = await chat.reply("schema-3", question, "api")
    assert llm_server.chat_requests == []
    assert result.mode == "offline" and "without a language model" in result.answer
    assert [t.name for t in result.tools_used] == ["technical_analysis"] and result.grounded


async def test_a_reply_outside_the_schema_falls_back_with_a_note(
    open_chat: OpenChat, llm_server: FakeOpenAI
) -> None:
    llm_server.script(say("Sure! BTC looks bullish to me."))  # a server that ignored the format
    chat = await open_chat(llm_ask="always")
    result = await chat.reply("schema-4", "What is the RSI of BTC?", "api")
    assert result.mode == "offline" and result.grounded
    assert "(the model's routing reply is not JSON)" in result.answer
    assert "bullish to me" not in result.answer
