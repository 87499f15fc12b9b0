"""The graph's state: the thread's messages and memory, plus this turn's working fields.

Per-turn fields are reset by the turn's input; `messages` and `context` persist in the
Postgres checkpoint, so follow-ups in later turns (or after a restart) resolve.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

Mode = Literal["llm", "offline"]
Route = Literal["native", "schema"]  # how the model chose this turn's tools, in LLM mode


class ToolRun(TypedDict):
    """One executed tool call and its outcome."""

    id: str
    name: str
    args: dict[str, Any]
    ok: bool
    result: Any
    error: str | None
    ms: float


class AgentState(TypedDict, total=False):
    """Everything the nodes read and write."""

    # persisted across turns
    messages: Annotated[list[AnyMessage], add_messages]
    context: dict[str, Any]
    # this turn
    question: str
    mode: Mode
    route: Route | None
    plan: dict[str, Any] | None
    pending: list[dict[str, Any]]
    results: list[ToolRun]
    scratch: list[AnyMessage]
    answer: str
    grounding: dict[str, Any]
    fit: dict[str, Any]
    notes: list[str]
    llm_rounds: int
    llm_tokens: int
