"""Provider selection and the tool mode: `auto` resolved per provider, Ollama built without a
request and falling back when it cannot be reached, a local model that cannot load."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

import pytest
from langchain_ollama import ChatOllama

from agent.graph import nodes
from agent.graph.context import TurnContext
from agent.graph.llm import open_language_model, resolve_tool_mode
from agent.graph.prompts import FALLBACK_NOTE
from agent.settings import SettingsError, load_settings
from agent.toolkit import GET_PRICE
from tests.unit.agent.graph.test_nodes import TOOLS, runtime, runtime_of, state


def settings(**values: Any) -> Any:
    return load_settings(_env_file=None, **values)


@pytest.mark.parametrize(
    ("values", "mode"),
    [
        ({"llm_model": "local:/models/qwen.gguf"}, "schema"),
        ({"llm_model": "ollama:llama3.1"}, "schema"),
        ({"llm_model": "openai:gpt-4.1-mini"}, "native"),
        ({"llm_model": "openai:qwen", "openai_base_url": "http://127.0.0.1:8080/v1"}, "schema"),
        ({"llm_model": "openai:qwen", "openai_base_url": "http://localhost:8080/v1"}, "schema"),
        ({"llm_model": "openai:gpt", "openai_base_url": "https://llm.example.com/v1"}, "native"),
        ({"llm_model": "anthropic:claude-sonnet-4-5"}, "native"),
        ({"llm_model": "local:/m.gguf", "llm_tool_mode": "native"}, "native"),
        ({"llm_model": "openai:gpt-4.1-mini", "llm_tool_mode": "schema"}, "schema"),
    ],
)
def test_auto_is_schema_for_local_servers_and_native_for_hosted_ones(
    values: dict[str, Any], mode: str
) -> None:
    assert resolve_tool_mode(settings(**values)) == mode


def test_settings_refuse_schema_mode_where_no_server_honours_a_schema() -> None:
    with pytest.raises(SettingsError, match="LLM_TOOL_MODE"):
        settings(llm_model="anthropic:claude-sonnet-4-5", llm_tool_mode="schema")
    with pytest.raises(SettingsError, match=r"local:PATH\.gguf"):
        settings(llm_model="local:")
    assert settings().llm_ask == "unsure" and settings().llm_schema_answer == "composer"


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_ollama_is_built_without_a_request_with_its_url_and_timeout() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    llm = open_language_model(
        settings(llm_model="ollama:llama3.1", ollama_base_url=url, llm_timeout_seconds=3)
    )
    assert llm is not None and isinstance(llm.chat, ChatOllama)
    assert (llm.chat.model, llm.chat.base_url) == ("llama3.1", url)
    assert llm.chat.client_kwargs == {"timeout": 3.0}
    assert llm.tool_mode == "schema" and llm.server is None
    llm.close()  # nothing to stop


async def test_an_unreachable_ollama_falls_back_to_the_keyless_answer() -> None:
    values = {"llm_model": "ollama:llama3.1", "llm_ask": "always"}
    config = settings(**values, ollama_base_url=f"http://127.0.0.1:{closed_port()}")
    llm = open_language_model(config)
    assert llm is not None
    ctx = TurnContext.build(config, TOOLS, llm.chat, tool_mode=llm.tool_mode)
    update = await nodes.understand(state("what's BTC at?"), {}, runtime_of(ctx))
    assert update["mode"] == "offline" and update["pending"][0]["name"] == GET_PRICE
    assert update["notes"][-1] == FALLBACK_NOTE.format(reason="unreachable")


@pytest.mark.parametrize("content", [None, b"not a GGUF model\n"])
def test_a_local_model_that_cannot_load_leaves_the_chat_keyless(
    tmp_path: Path, content: bytes | None, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "model.gguf"
    if content is not None:
        path.write_bytes(content)
    with caplog.at_level(logging.ERROR, logger="agent.graph.llm"):
        assert open_language_model(settings(llm_model=f"local:{path}")) is None
    (record,) = caplog.records
    reason = "no model file" if content is None else "llama.cpp could not load model.gguf"
    assert reason in record.getMessage() and "running keyless" in record.getMessage()


def test_the_keyless_context_has_no_model() -> None:
    assert open_language_model(settings()) is None
    ctx = runtime(settings(), None).context
    assert ctx.model is None and ctx.writer is None and ctx.tool_mode == "native"
