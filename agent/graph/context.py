"""What the graph's nodes need besides the state, given to every run as LangGraph's runtime
context: the settings, the tools by name, the chat model with the tools bound (None offline)
and the redactor of this process's secrets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool

from agent.guards.redaction import Redactor, settings_secrets
from agent.settings import Settings

#: model calls per turn before the turn falls back to the offline planner
MAX_LLM_ROUNDS = 4


@dataclass(frozen=True)
class TurnContext:
    """The graph's dependencies; a test passes a fake chat model (`tests.fakes.chat_model`)."""

    settings: Settings
    tools: Mapping[str, BaseTool]
    model: Any  # the chat model with the tools bound (a Runnable), None in offline mode
    redactor: Redactor
    max_llm_rounds: int = MAX_LLM_ROUNDS

    @classmethod
    def build(
        cls, settings: Settings, tools: Sequence[BaseTool], llm: BaseChatModel | None
    ) -> TurnContext:
        """The context of a process: the model bound to `tools`, secrets from `settings`."""
        return cls(
            settings=settings,
            tools={tool.name: tool for tool in tools},
            model=llm.bind_tools(list(tools)) if llm is not None else None,
            redactor=Redactor(settings_secrets(settings)),
        )
