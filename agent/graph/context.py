"""What the graph's nodes need besides the state, given to every run as LangGraph's runtime
context: the settings, the tools by name, the chat model ready for this process's tool mode
(None keyless) and the redactor of this process's secrets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool

from agent.graph.llm import ToolMode, bind_router, provider_of, resolve_tool_mode
from agent.graph.schema_routing import routing_schema
from agent.guards.redaction import Redactor, settings_secrets
from agent.settings import Settings
from agent.toolkit import TABLE

#: model calls per turn before the turn falls back to the offline planner
MAX_LLM_ROUNDS = 4


@dataclass(frozen=True)
class TurnContext:
    """The graph's dependencies; a test passes a fake chat model (`tests.fakes.chat_model`).

    `model` is what `understand` asks: in native mode the model with the tools bound, in schema
    mode the model bound to the routing schema. `writer` is the plain model, which writes a
    schema-mode answer from the tool results when `LLM_SCHEMA_ANSWER=model`.
    """

    settings: Settings
    tools: Mapping[str, BaseTool]
    model: Any  # a Runnable, None in keyless mode
    redactor: Redactor
    max_llm_rounds: int = MAX_LLM_ROUNDS
    tool_mode: ToolMode = "native"
    writer: Any = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        tools: Sequence[BaseTool],
        llm: BaseChatModel | None,
        *,
        tool_mode: ToolMode | None = None,
    ) -> TurnContext:
        """The context of a process: the model bound for `tool_mode` (default: the settings'
        mode, `auto` resolved) to `tools`, secrets from `settings`."""
        mode = tool_mode or resolve_tool_mode(settings)
        model: Any = None
        if llm is not None and mode == "native":
            model = llm.bind_tools(list(tools))
        elif llm is not None:
            specs = [TABLE[tool.name] for tool in tools if tool.name in TABLE]
            schema = routing_schema(specs, max_calls=settings.max_tool_calls)
            model = bind_router(llm, schema, provider_of(settings))
        return cls(
            settings=settings,
            tools={tool.name: tool for tool in tools},
            model=model,
            redactor=Redactor(settings_secrets(settings)),
            tool_mode=mode,
            writer=llm,
        )
