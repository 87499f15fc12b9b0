"""LLM provider selection and how the model routes a turn.

`LLM_MODEL=provider:model`: hosted providers through `init_chat_model`, `local:PATH.gguf` through
llama.cpp's server run in this process (`agent.graph.local_server`) and langchain-openai,
`ollama:MODEL` through langchain-ollama; unset = keyless. `LLM_TOOL_MODE` picks native tool
calling or schema routing (the model fills the tool table's JSON schema); `auto` is schema for
local servers, whose small models do not call tools reliably, and native for hosted providers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from langchain_core.language_models import BaseChatModel

from agent.errors import ModelOutputError
from agent.graph.local_server import LocalModelServer
from agent.graph.schema_routing import response_format
from agent.settings import Settings

log = logging.getLogger(__name__)

ToolMode = Literal["native", "schema"]
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
LOCAL_PROVIDERS = frozenset({"local", "ollama"})
ROUTING_MAX_TOKENS = 512  # a routing reply is a few calls; a model that loops is cut here
LOCAL_API_KEY = "local"  # the in-process server checks no key; the OpenAI client wants one


def provider_of(settings: Settings) -> str:
    """The provider part of `LLM_MODEL` ("" when unset)."""
    return (settings.llm_model or "").partition(":")[0]


def resolve_tool_mode(settings: Settings) -> ToolMode:
    """`LLM_TOOL_MODE`, with `auto` resolved: schema for `local:`, `ollama:` and `openai:` with
    an `OPENAI_BASE_URL` on this machine (llama.cpp's server and the like), native otherwise."""
    if settings.llm_tool_mode != "auto":
        return settings.llm_tool_mode
    provider = provider_of(settings)
    if provider in LOCAL_PROVIDERS:
        return "schema"
    if provider == "openai" and _on_this_machine(settings.openai_base_url):
        return "schema"
    return "native"


def _on_this_machine(url: str | None) -> bool:
    return bool(url) and urlsplit(url).hostname in LOOPBACK


@dataclass
class LanguageModel:
    """The configured chat model, how it routes, and the local server it runs on, if any."""

    chat: BaseChatModel
    provider: str
    tool_mode: ToolMode
    server: LocalModelServer | None = None

    def close(self) -> None:
        """Stop the local model's server (nothing to do for remote providers)."""
        if self.server is not None:
            self.server.stop()


def _openai_compatible(settings: Settings, model: str, base_url: str, key: str) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=model,
        base_url=base_url,
        api_key=key,  # type: ignore[arg-type]
        timeout=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries,
        temperature=0,
    )


def _ollama(settings: Settings, model: str) -> BaseChatModel:
    from langchain_ollama import ChatOllama

    # no request at construction (the model is checked on first use); the timeout bounds each call
    return ChatOllama(
        model=model,
        base_url=settings.ollama_base_url,
        temperature=0,
        client_kwargs={"timeout": settings.llm_timeout_seconds},
    )


def _hosted(settings: Settings, provider: str, model: str) -> BaseChatModel:
    from langchain.chat_models import init_chat_model

    kwargs: dict[str, Any] = {
        "timeout": settings.llm_timeout_seconds,
        "max_retries": settings.llm_max_retries,
        "temperature": 0,
    }
    if provider == "openai":
        if settings.openai_api_key is not None:
            kwargs["api_key"] = settings.openai_api_key.get_secret_value()
        elif _on_this_machine(settings.openai_base_url):
            kwargs["api_key"] = LOCAL_API_KEY  # a local server (llama.cpp's) checks no key
        if settings.openai_base_url:
            kwargs["base_url"] = settings.openai_base_url
    elif provider == "anthropic" and settings.anthropic_api_key is not None:
        kwargs["api_key"] = settings.anthropic_api_key.get_secret_value()
    return init_chat_model(model, model_provider=provider, **kwargs)


def open_language_model(settings: Settings) -> LanguageModel | None:
    """The configured model, ready (a local model loaded and served), or None for keyless mode;
    a provider that cannot be built is logged and the chat runs keyless."""
    if not settings.llm_model:
        return None
    provider, _, model = settings.llm_model.partition(":")
    server: LocalModelServer | None = None
    try:
        if provider == "local":
            path = Path(model).expanduser()
            server = LocalModelServer(
                path,
                context_tokens=settings.local_llm_context,
                threads=settings.local_llm_threads,
                verbose=settings.log_level == "DEBUG",
            )
            chat = _openai_compatible(settings, path.stem, server.start(), LOCAL_API_KEY)
        elif provider == "ollama":
            chat = _ollama(settings, model)
        else:
            chat = _hosted(settings, provider, model)
    except Exception as exc:  # no such provider, a missing package or key, a file that won't load
        log.error("LLM %s unavailable (%s); running keyless", settings.llm_model, exc)
        if server is not None:
            server.stop()
        return None
    return LanguageModel(chat, provider, resolve_tool_mode(settings), server)


def bind_router(llm: BaseChatModel, schema: dict[str, Any], provider: str) -> Any:
    """`llm` asked to answer with JSON of `schema` under constrained decoding: OpenAI's
    `response_format` (llama.cpp compiles it to a grammar; langchain-ollama turns it into
    Ollama's `format`), its length bounded where the client takes a bound."""
    bound: dict[str, Any] = {"response_format": response_format(schema)}
    if provider != "ollama":  # Ollama's bound is an option of the model, not of the call
        bound["max_tokens"] = ROUTING_MAX_TOKENS
    return llm.bind(**bound)


def failure_reason(exc: BaseException) -> str:
    """Why the model gave no usable answer, as the fallback note says it."""
    name = type(exc).__name__
    if "timeout" in name.lower():
        return "timeout"
    if "connect" in name.lower():  # httpx's ConnectError, openai's APIConnectionError
        return "unreachable"
    if isinstance(exc, ModelOutputError):
        return str(exc)
    if name == "LengthFinishReasonError":  # the openai client, when max_tokens cut the JSON
        return "its reply reached the length limit"
    return name
