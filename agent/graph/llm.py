"""LLM provider selection: `LLM_MODEL=provider:model` through `init_chat_model`, or none."""

from __future__ import annotations

import logging
from typing import Any

from langchain_core.language_models import BaseChatModel

from agent.settings import Settings

log = logging.getLogger(__name__)


def make_chat_model(settings: Settings) -> BaseChatModel | None:
    """The configured chat model with timeouts and retries, or None for offline mode."""
    if not settings.llm_model:
        return None
    from langchain.chat_models import init_chat_model

    provider, _, model = settings.llm_model.partition(":")
    kwargs: dict[str, Any] = {
        "timeout": settings.llm_timeout_seconds,
        "max_retries": settings.llm_max_retries,
        "temperature": 0,
    }
    if provider == "openai":
        if settings.openai_api_key is not None:
            kwargs["api_key"] = settings.openai_api_key.get_secret_value()
        if settings.openai_base_url:
            kwargs["base_url"] = settings.openai_base_url
    elif provider == "anthropic" and settings.anthropic_api_key is not None:
        kwargs["api_key"] = settings.anthropic_api_key.get_secret_value()
    elif provider == "ollama":
        kwargs.pop("timeout")
        kwargs.pop("max_retries")
    try:
        return init_chat_model(model, model_provider=provider, **kwargs)
    except (ImportError, ValueError) as exc:
        log.error("LLM %s unavailable (%s); running in offline mode", settings.llm_model, exc)
        return None
