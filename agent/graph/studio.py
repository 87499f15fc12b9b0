"""Entry point for LangGraph Studio / `langgraph dev` (see langgraph.json).

Studio supplies its own checkpointer, so the graph is compiled without one; the services come
from the same settings as the API.
"""

from __future__ import annotations

from typing import Any

from agent.core import Services
from agent.graph.builder import build_graph
from agent.graph.llm import make_chat_model
from agent.settings import load_settings


def make_graph() -> Any:
    """Build the assistant's graph for Studio."""
    settings = load_settings()
    services = Services.build(settings)
    return build_graph(settings, services.tools(), make_chat_model(settings))
