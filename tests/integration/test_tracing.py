"""LangSmith tracing of chat turns, captured by a local endpoint the real client sends to.

What a user (and an operator) cares about: with tracing on, every step of a turn is one trace
that can be found from the answer's trace id and carries who asked where; no secret ever leaves
in a trace; with tracing off, nothing is sent at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from langchain_core.tracers.langchain import wait_for_all_tracers

from agent.core import Services
from agent.graph.chat import ChatService
from agent.settings import Settings
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv
from tests.fakes.langsmith_server import FakeLangSmith
from tests.fakes.openai_server import (
    ASK_NATIVE,
    FakeOpenAI,
    answer_from_rsi,
    call_tools,
    tool_call,
)

OPENAI_KEY = "sk-test-SECRET-123456789"
LANGSMITH_KEY = "lsv2_pt_SECRETSECRET123"
ADMIN_KEY = "adm-SECRET-xyz987"
TELEGRAM_TOKEN = "123456789:AAFakeTokenValueForTests_abcdefghij"
NODES = {"understand", "call_tools", "compose", "ground_check"}
BTC = synthetic_bars(400, seed=21)

OpenChat = Callable[..., Awaitable[ChatService]]


@pytest.fixture
def capture() -> Iterator[FakeLangSmith]:
    with FakeLangSmith() as server:
        yield server


@pytest.fixture
async def open_chat(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> AsyncIterator[OpenChat]:
    """Builds services on this test's database with BTC-USD daily bars and starts the chat."""
    built: list[Services] = []

    async def open_(**overrides: Any) -> ChatService:
        services = Services.build(make_settings(**overrides))
        built.append(services)
        import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", BTC))
        return await services.start_chat()

    yield open_
    for services in built:
        await services.aclose()


def tracing_settings(capture: FakeLangSmith) -> dict[str, Any]:
    return {
        "langsmith_tracing": True,
        "langsmith_endpoint": capture.base_url,
        "langsmith_api_key": LANGSMITH_KEY,
    }


async def test_offline_turn_is_one_trace_with_every_node_and_tool(
    open_chat: OpenChat, capture: FakeLangSmith
) -> None:
    chat = await open_chat(**tracing_settings(capture))

    result = await chat.reply("trace-thread-1", "What is the RSI of BTC?", "web", "alice")

    assert result.mode == "offline"
    assert [t.name for t in result.tools_used] == ["technical_analysis"]
    assert result.trace_id is not None
    runs = capture.wait_for_trace(result.trace_id, NODES | {"technical_analysis"})
    names = {r["name"] for r in runs}
    assert NODES | {"technical_analysis"} <= names, names
    assert {r["trace_id"] for r in runs} == {result.trace_id}
    root = capture.run(result.trace_id)
    assert root is not None
    assert root["name"] == "chat_turn"
    assert root.get("parent_run_id") is None
    metadata = root["extra"]["metadata"]
    assert metadata["thread_id"] == "trace-thread-1"
    assert metadata["surface"] == "web"
    assert metadata["user_id"] == "alice"
    by_id = {r["id"]: r for r in runs}
    assert all(r["parent_run_id"] in by_id for r in runs if r["id"] != result.trace_id)
    tool = next(r for r in runs if r["name"] == "technical_analysis")
    assert tool["run_type"] == "tool"
    assert "BTC-USD" in str(tool["inputs"])
    assert "rsi_14" in str(tool["outputs"])
    assert all(r.get("end_time") for r in runs)  # every step finished and was reported
    assert capture.errors == []


async def test_llm_turn_traces_the_model_call_and_sends_no_secret(
    open_chat: OpenChat, capture: FakeLangSmith, llm_server: FakeOpenAI
) -> None:
    llm_server.script(
        call_tools(tool_call("technical_analysis", {"symbol": "BTC-USD"})), answer_from_rsi
    )
    chat = await open_chat(
        **tracing_settings(capture),
        **ASK_NATIVE,
        llm_model="openai:gpt-test",
        openai_api_key=OPENAI_KEY,
        openai_base_url=llm_server.base_url,
        llm_max_retries=0,
        admin_api_key=ADMIN_KEY,
        telegram_bot_token=TELEGRAM_TOKEN,
    )

    result = await chat.reply("trace-thread-2", "What is the RSI of BTC?", "telegram", "42")

    assert result.mode == "llm"
    assert result.trace_id is not None
    runs = capture.wait_for_trace(result.trace_id, NODES | {"technical_analysis", "ChatOpenAI"})
    llm_runs = [r for r in runs if r["run_type"] == "llm"]
    assert len(llm_runs) == 2  # asked for the tool, then wrote the answer
    assert all(r["trace_id"] == result.trace_id for r in llm_runs)
    assert "technical_analysis" in {r["name"] for r in runs}

    secrets = [OPENAI_KEY, LANGSMITH_KEY, ADMIN_KEY, TELEGRAM_TOKEN]
    password = urlsplit(chat.settings.database_url.get_secret_value()).password  # type: ignore[union-attr]
    if password:
        secrets.append(password)
    bodies = capture.bodies() + capture.raw_bodies()
    assert any(b"technical_analysis" in body for body in capture.bodies())  # traces did arrive
    for secret in secrets:
        leaked = [body[:200] for body in bodies if secret.encode() in body]
        assert not leaked, f"{secret!r} was sent to LangSmith"
    ingest = [r for r in capture.requests if r.path.startswith("/runs")]
    assert ingest
    assert all(r.headers.get("x-api-key") == LANGSMITH_KEY for r in ingest)  # auth header only
    assert llm_server.chat_requests[0].headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert capture.errors == []


async def test_a_secret_pasted_into_the_question_is_redacted_in_the_trace(
    open_chat: OpenChat, capture: FakeLangSmith
) -> None:
    chat = await open_chat(**tracing_settings(capture), openai_api_key=OPENAI_KEY)

    result = await chat.reply(
        "trace-thread-3", f"My key {OPENAI_KEY} is set. What is the RSI of BTC?", "cli"
    )

    assert result.trace_id is not None
    runs = capture.wait_for_trace(result.trace_id, NODES)
    assert runs
    assert any(b"[redacted]" in body for body in capture.bodies())
    assert not [b for b in capture.bodies() + capture.raw_bodies() if OPENAI_KEY.encode() in b]


async def test_with_tracing_off_nothing_is_sent(
    open_chat: OpenChat, capture: FakeLangSmith, monkeypatch: pytest.MonkeyPatch
) -> None:
    # even the environment points at the capture server: only the setting may turn tracing on
    monkeypatch.setenv("LANGSMITH_ENDPOINT", capture.base_url)
    chat = await open_chat(
        langsmith_tracing=False,
        langsmith_endpoint=capture.base_url,
        langsmith_api_key=LANGSMITH_KEY,
    )

    result = await chat.reply("trace-thread-4", "What is the RSI of BTC?", "api", "bob")

    assert result.trace_id is None
    assert result.tools_used and result.tools_used[0].ok
    chat.tracing.flush()
    wait_for_all_tracers()
    assert not capture.wait_until(lambda fake: bool(fake.requests), timeout=0.5)
    assert capture.requests == []
