"""The conversation graph, wired: understand -> call tools -> compose -> ground-check.

One graph serves every surface; the nodes (`agent.graph.nodes`) get their dependencies from the
runtime context (`TurnContext`), which the chat service passes to every run. Tool calls are
checked before they run (`agent.graph.calls`).
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.types import Checkpointer

from agent.graph import nodes
from agent.graph.context import TurnContext
from agent.graph.routing import after_tools, after_understand
from agent.graph.state import AgentState


def build_graph(checkpointer: Checkpointer = None) -> Any:
    """Compile the graph (with the thread memory's checkpointer, when given)."""
    # no `context_schema`: the context holds live objects (tools, a model), which LangGraph
    # Studio could neither describe as JSON nor build from a request's JSON
    graph: StateGraph[AgentState, TurnContext, AgentState, AgentState] = StateGraph(AgentState)
    # LangGraph types no node taking (state, config, runtime), and runs one all the same
    graph.add_node("understand", nodes.understand)  # type: ignore[call-overload]
    graph.add_node("call_tools", nodes.call_tools)  # type: ignore[call-overload]
    graph.add_node("compose", nodes.compose)  # type: ignore[call-overload]
    graph.add_node("ground_check", nodes.ground_check)
    graph.add_edge(START, "understand")
    graph.add_conditional_edges("understand", after_understand)
    graph.add_conditional_edges("call_tools", after_tools)
    graph.add_edge("compose", "ground_check")
    graph.add_edge("ground_check", END)
    return graph.compile(checkpointer=checkpointer, name="crypto-assistant")
