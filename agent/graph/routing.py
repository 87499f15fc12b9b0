"""Where the graph goes after a node: to the tools while calls are pending, back to the model
after them in native LLM mode, else on to the composer."""

from __future__ import annotations

from typing import Literal

from agent.graph.state import AgentState


def after_understand(state: AgentState) -> Literal["call_tools", "compose"]:
    """Tools first when the turn has pending calls."""
    return "call_tools" if state.get("pending") else "compose"


def after_tools(state: AgentState) -> Literal["understand", "compose"]:
    """The model reads the results in native LLM mode; after schema routing or keyless, the
    answer is composed from them."""
    native = state.get("mode") == "llm" and state.get("route") != "schema"
    return "understand" if native else "compose"
