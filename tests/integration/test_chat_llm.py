"""LLM mode end to end: the real langchain-openai client against a scripted local server.

The model's replies are scripted, but everything else is real: the request the client builds
(system prompt, tool schemas, tool results sent back), the graph, the tools on Postgres data,
the grounding check, and the fallback to offline mode when the provider fails.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from agent.core import Services
from agent.graph.chat import ChatResult, ChatService
from agent.graph.prompts import FALLBACK_NOTE
from agent.settings import Settings
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv
from tests.fakes.openai_server import (
    ASK_NATIVE,
    FakeOpenAI,
    Reply,
    call_tools,
    fail,
    hang,
    say,
    system_prompt,
    tool_call,
    tool_messages,
    tool_payload,
)

OPENAI_KEY = "sk-test-SECRET-123456789"
BTC = synthetic_bars(400, seed=5)
ETH = synthetic_bars(400, seed=6, price=2_000.0)

OpenChat = Callable[..., Awaitable[ChatService]]


@pytest.fixture
async def open_chat(
    make_settings: Callable[..., Settings], llm_server: FakeOpenAI, tmp_path: Path
) -> AsyncIterator[OpenChat]:
    """Services in LLM mode against the fake server, with BTC-USD and ETH-USD daily bars."""
    built: list[Services] = []

    async def open_(**overrides: Any) -> ChatService:
        values: dict[str, Any] = ASK_NATIVE | {
            "llm_model": "openai:gpt-test",
            "openai_api_key": OPENAI_KEY,
            "openai_base_url": llm_server.base_url,
            "llm_timeout_seconds": 5.0,
            "llm_max_retries": 0,
        }
        services = Services.build(make_settings(**(values | overrides)))
        built.append(services)
        import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", BTC))
        import_file(services.prices, write_csv(tmp_path, "ETH-USD.csv", ETH))
        return await services.start_chat()

    yield open_
    for services in built:
        await services.aclose()


def rsi_text(report: dict[str, Any]) -> str:
    """The RSI as an answer quotes it: the tool's value rounded to one decimal."""
    return f"{report['values']['rsi_14']:.1f}"


def quote_rsi(body: dict[str, Any]) -> Reply:
    """The model's final answer, written from the technical_analysis result it was sent."""
    report = tool_payload(tool_messages(body)[0])
    return say(
        f"On daily bars BTC-USD has an RSI(14) of {rsi_text(report)}, "
        f"so the summary stance is {report['summary']['stance']}."
    )


def assert_script_done(server: FakeOpenAI) -> None:
    assert server.errors == []
    assert server.unexpected == []
    assert server.remaining == 0


async def test_llm_calls_the_tool_and_answers_with_its_rsi(
    open_chat: OpenChat, llm_server: FakeOpenAI
) -> None:
    llm_server.script(call_tools(tool_call("technical_analysis", {"symbol": "btc"})), quote_rsi)
    chat = await open_chat()

    result = await chat.reply("llm-1", "What is the RSI of BTC?", "web", "alice")

    assert result.mode == "llm"
    assert len(result.tools_used) == 1
    used = result.tools_used[0]
    assert used.name == "technical_analysis"
    assert used.args["symbol"] == "BTC-USD"
    assert used.ok and used.error is None
    assert rsi_text(used.result) in result.answer
    assert result.grounded is True
    assert result.grounding["unsupported"] == []
    assert result.grounding["checked"] >= 1
    assert FALLBACK_NOTE.split("(")[0] not in result.answer

    first, second = (r.body for r in llm_server.chat_requests)
    assert "must come from a tool" in system_prompt(first)
    assert {t["function"]["name"] for t in first["tools"]} >= {"technical_analysis", "get_price"}
    assert any(m["role"] == "user" and "RSI of BTC" in m["content"] for m in first["messages"])
    sent_back = tool_messages(second)
    assert len(sent_back) == 1
    assert tool_payload(sent_back[0])["values"]["rsi_14"] == pytest.approx(
        used.result["values"]["rsi_14"]
    )
    assert llm_server.chat_requests[0].headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert_script_done(llm_server)


async def test_independent_calls_in_one_reply_all_run(
    open_chat: OpenChat, llm_server: FakeOpenAI
) -> None:
    def both_prices(body: dict[str, Any]) -> Reply:
        btc, eth = (tool_payload(m) for m in tool_messages(body))
        return say(f"BTC-USD closed at {btc['close']:,.2f} and ETH-USD at {eth['close']:,.2f}.")

    llm_server.script(
        call_tools(
            tool_call("get_price", {"symbol": "BTC-USD"}, id="call_btc"),
            tool_call("get_price", {"symbol": "ETH-USD"}, id="call_eth"),
        ),
        both_prices,
    )
    chat = await open_chat()

    result = await chat.reply("llm-2", "Prices of BTC and ETH?", "api")

    assert result.mode == "llm"
    assert [(t.name, t.args["symbol"], t.ok) for t in result.tools_used] == [
        ("get_price", "BTC-USD", True),
        ("get_price", "ETH-USD", True),
    ]
    assert len(llm_server.chat_requests) == 2  # both answered in the same round
    sent_back = tool_messages(llm_server.chat_requests[1].body)
    assert {m["tool_call_id"] for m in sent_back} == {"call_btc", "call_eth"}
    for used in result.tools_used:
        assert f"{used.result['close']:,.2f}" in result.answer
    assert result.grounded is True
    assert_script_done(llm_server)


async def test_grounding_removes_an_invented_price(
    open_chat: OpenChat, llm_server: FakeOpenAI
) -> None:
    assert abs(float(BTC["close"].iloc[-1]) - 91_200) > 1_000  # the figure really is invented

    def invents_a_price(body: dict[str, Any]) -> Reply:
        report = tool_payload(tool_messages(body)[0])
        return say(f"BTC closed at $91,200.00 today. RSI is {rsi_text(report)}.")

    llm_server.script(
        call_tools(tool_call("technical_analysis", {"symbol": "BTC-USD"})), invents_a_price
    )
    chat = await open_chat()

    result = await chat.reply("llm-3", "How is BTC doing?", "web")

    assert result.mode == "llm"
    assert result.grounded is False
    assert result.grounding["grounded"] is False
    assert "$91,200.00" in result.grounding["unsupported"]
    assert "91,200" not in result.answer
    assert f"RSI is {rsi_text(result.tools_used[0].result)}." in result.answer
    assert_script_done(llm_server)


async def assert_offline_fallback(result: ChatResult, reason: str) -> None:
    assert result.mode == "offline"
    assert FALLBACK_NOTE.format(reason=reason) in result.answer
    assert "RSI 14" in result.answer  # the offline technical answer, from the same tool
    assert [t.name for t in result.tools_used] == ["technical_analysis"]
    assert result.tools_used[0].ok
    assert result.grounded is True


async def test_provider_timeout_falls_back_to_offline_mode(
    open_chat: OpenChat, llm_server: FakeOpenAI
) -> None:
    llm_server.script(hang(3.0))
    chat = await open_chat(llm_timeout_seconds=1.0, llm_max_retries=0)

    started = time.monotonic()
    result = await chat.reply("llm-4", "What is the RSI of BTC?", "telegram", "7")
    elapsed = time.monotonic() - started

    await assert_offline_fallback(result, "timeout")
    assert elapsed < 3.0  # gave up at the client timeout, did not wait for the late reply
    assert len(llm_server.chat_requests) == 1  # no retries configured


async def test_provider_error_falls_back_to_offline_mode(
    open_chat: OpenChat, llm_server: FakeOpenAI
) -> None:
    llm_server.script(fail(500))
    chat = await open_chat()

    result = await chat.reply("llm-5", "What is the RSI of BTC?", "web")

    assert result.mode == "offline"
    assert any(note.startswith("The language model did not answer") for note in result.notes)
    reason = result.notes[0].split("(")[1].split(")")[0]
    await assert_offline_fallback(result, reason)
    assert len(llm_server.chat_requests) == 1


async def test_tool_error_goes_back_to_the_model_readably(
    open_chat: OpenChat, llm_server: FakeOpenAI
) -> None:
    seen: list[Any] = []

    def explains_the_gap(body: dict[str, Any]) -> Reply:
        payload = tool_payload(tool_messages(body)[0])
        seen.append(payload)
        return say("I have no stored data for SOL-USD, so I cannot give its RSI.")

    llm_server.script(
        call_tools(tool_call("technical_analysis", {"symbol": "SOL-USD"})), explains_the_gap
    )
    chat = await open_chat()

    result = await chat.reply("llm-6", "What is the RSI of SOL?", "web")

    assert result.mode == "llm"
    used = result.tools_used[0]
    assert (used.name, used.args["symbol"], used.ok) == ("technical_analysis", "SOL-USD", False)
    assert used.error and "SOL" in used.error
    assert "Traceback" not in used.error
    assert seen == [{"error": used.error}]  # the model was told exactly what went wrong
    assert result.answer == "I have no stored data for SOL-USD, so I cannot give its RSI."
    assert result.grounded is True
    assert_script_done(llm_server)
