"""Entry point for LangGraph Studio / `langgraph dev` (see langgraph.json).

Studio supplies its own checkpointer, so the graph is compiled without one; the services come
from the same settings as the API. Studio runs the graph without a runtime context of ours, so
the nodes' context (`TurnContext`) is given to the graph here, as the graph-level context that
a run without its own inherits.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.core import Services
from agent.graph.builder import build_graph
from agent.graph.context import TurnContext
from agent.graph.llm import open_language_model
from agent.settings import load_settings

# where LangGraph looks for the context a graph factory sets for the runs without one
RUNTIME_KEY = "__pregel_runtime"


def with_context(graph: Any, context: TurnContext) -> Any:
    """`graph` with `context` as the context of every run that brings none."""
    return graph.with_config(configurable={RUNTIME_KEY: Runtime(context=context)})


def make_graph() -> Any:
    """Build the assistant's graph for Studio, its context bound."""
    settings = load_settings()
    services = Services.build(settings)
    llm = open_language_model(settings)  # a local model's server lives as long as Studio's process
    context = TurnContext.build(
        settings,
        services.tools(),
        llm.chat if llm else None,
        tool_mode=llm.tool_mode if llm else None,
    )
    return with_context(build_graph(), context)
