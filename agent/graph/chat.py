"""`ChatService`: the only way a front-end talks to the brain (reply and streaming reply)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any, Literal

import psycopg
from langchain_core.messages import HumanMessage
from pydantic import BaseModel, Field

from agent import toolkit as names
from agent.errors import DatabaseUnavailableError, InvalidRequestError, NotFoundError
from agent.graph.context import TurnContext
from agent.graph.memory import NOT_YOURS, ThreadLocks
from agent.graph.tracing import Tracing

log = logging.getLogger(__name__)
Surface = Literal["api", "web", "telegram", "cli", "studio"]
ANONYMOUS = "anonymous"


def thread_key(surface: str, thread_id: str) -> str:
    """The thread's key in memory and in `thread_owners`: each surface has its own namespace."""
    return f"{surface}:{thread_id}"


class ToolUse(BaseModel):
    """One tool call of the turn: what was asked, whether it worked, what it returned."""

    name: str
    args: dict[str, Any]
    ok: bool
    error: str | None = None
    ms: float = 0.0
    result: Any = None


class ChatResult(BaseModel):
    """A finished turn: the grounded answer and everything needed to audit it."""

    thread_id: str
    answer: str
    tools_used: list[ToolUse] = Field(default_factory=list)
    sources: list[dict[str, Any]] = Field(default_factory=list)
    grounded: bool
    grounding: dict[str, Any] = Field(default_factory=dict)
    fit: dict[str, Any] = Field(
        default_factory=dict
    )  # what was asked, what was used, what was said
    mode: Literal["llm", "offline"]
    notes: list[str] = Field(default_factory=list)
    trace_id: str | None = None


class ChatEvent(BaseModel):
    """A streamed step: tool_start, tool_result, token, or final (with the result)."""

    type: Literal["tool_start", "tool_result", "token", "final"]
    data: dict[str, Any] = Field(default_factory=dict)


class ChatService:
    """Runs one graph for every surface; threads are checkpointed in Postgres."""

    def __init__(self, graph: Any, context: TurnContext, tracing: Tracing) -> None:
        self.graph = graph
        self.context = context  # the nodes' dependencies, given to every run
        self.settings = context.settings
        self.tracing = tracing
        self.turns: Counter[str] = Counter()  # by mode, for /metrics and /system-status
        self.tool_calls: Counter[tuple[str, bool]] = Counter()  # by (tool, ok)
        locks = getattr(getattr(graph, "checkpointer", None), "locks", None)
        self.locks = locks if isinstance(locks, ThreadLocks) else None
        self._owners: dict[str, str] = {}  # thread ownership without Postgres memory

    def _claim_locally(self, key: str, principal: str) -> None:
        """Without Postgres memory, the first principal of a thread owns it in this process."""
        if self._owners.setdefault(key, principal) != principal:
            raise NotFoundError(NOT_YOURS)

    def _turn(self, key: str, principal: str) -> AbstractAsyncContextManager[None]:
        """Claim the thread and hold its turn lock (across processes, with Postgres memory)."""
        if self.locks is not None:
            return self.locks.hold(key, principal)
        self._claim_locally(key, principal)
        return nullcontext()

    def _check(self, text: str) -> str:
        cleaned = text.strip()
        if not cleaned:
            raise InvalidRequestError("the message is empty")
        if "\x00" in cleaned:  # Postgres text and JSON (the thread's checkpoint) cannot hold NUL
            raise InvalidRequestError("the message contains a NUL character")
        if len(cleaned) > self.settings.max_message_chars:
            raise InvalidRequestError(
                f"the message is longer than {self.settings.max_message_chars} characters"
            )
        return cleaned

    async def astream(
        self,
        thread_id: str,
        text: str,
        surface: Surface = "api",
        user: str | None = None,
        *,
        principal: str = ANONYMOUS,
    ) -> AsyncIterator[ChatEvent]:
        """Yield tool steps and answer tokens as they happen, then the final result; a thread
        of the surface owned by another principal is NotFound."""
        question = self._check(text)
        key = thread_key(surface, thread_id)
        run_id = uuid.uuid4()
        tracing_on = self.tracing.enabled
        config: dict[str, Any] = {
            "configurable": {"thread_id": key},
            "metadata": {
                "thread_id": thread_id,
                "surface": surface,
                "user_id": user or ANONYMOUS,
                "principal": principal,
            },
            "callbacks": self.tracing.callbacks(),
            "run_name": "chat_turn",
            "run_id": run_id,
            "recursion_limit": 30,
        }
        turn_input: dict[str, Any] = {
            "messages": [HumanMessage(question)],
            "question": question,
            "mode": None,
            "route": None,
            "plan": None,
            "pending": [],
            "results": [],
            "scratch": [],
            "answer": "",
            "grounding": {},
            "fit": {},
            "notes": [],
            "llm_rounds": 0,
            "llm_tokens": 0,
        }
        state: dict[str, Any] = {}
        try:
            async with (
                asyncio.timeout(self.settings.turn_timeout_seconds),
                self._turn(key, principal),
            ):
                async for mode, chunk in self.graph.astream(
                    turn_input,
                    config,
                    context=self.context,
                    stream_mode=["custom", "values"],
                    durability="exit",
                ):
                    if mode == "values":  # this turn's own state, never another request's
                        state = chunk
                        continue
                    if chunk["type"] == "tool_result":
                        self.tool_calls[(chunk["name"], chunk["ok"])] += 1
                    yield ChatEvent(
                        type=chunk["type"], data={k: v for k, v in chunk.items() if k != "type"}
                    )
        except TimeoutError:
            raise InvalidRequestError(
                f"this question took longer than {self.settings.turn_timeout_seconds:g} s; "
                "try a narrower one"
            ) from None
        except psycopg.OperationalError as exc:  # the thread memory's pool (PoolTimeout too)
            raise DatabaseUnavailableError(f"conversation memory unavailable: {exc}") from exc
        finally:
            if tracing_on:
                await asyncio.to_thread(self.tracing.flush)
        sources = [
            {"title": h["title"], "source": h["source"], "section": h.get("section") or ""}
            for r in state.get("results", [])
            if r["name"] == names.SEARCH_KNOWLEDGE and r["ok"]
            for h in r["result"]["hits"]
        ]
        result = ChatResult(
            thread_id=thread_id,
            answer=state.get("answer", ""),
            tools_used=[
                ToolUse(
                    name=r["name"],
                    args=r["args"],
                    ok=r["ok"],
                    error=r["error"],
                    ms=r["ms"],
                    result=r["result"],
                )
                for r in state.get("results", [])
            ],
            sources=list({(s["title"], s["section"]): s for s in sources}.values()),
            grounded=bool(state.get("grounding", {}).get("grounded", True)),
            grounding=state.get("grounding", {}),
            fit=state.get("fit", {}),
            mode=state.get("mode") or "offline",
            notes=state.get("notes") or [],
            trace_id=str(run_id) if tracing_on else None,
        )
        self.turns[result.mode] += 1
        yield ChatEvent(type="final", data=result.model_dump(mode="json"))

    async def reply(
        self,
        thread_id: str,
        text: str,
        surface: Surface = "api",
        user: str | None = None,
        *,
        principal: str = ANONYMOUS,
    ) -> ChatResult:
        """The whole turn at once."""
        final: dict[str, Any] | None = None
        async for event in self.astream(thread_id, text, surface, user, principal=principal):
            if event.type == "final":
                final = event.data
        assert final is not None
        return ChatResult.model_validate(final)

    async def history(
        self, thread_id: str, *, surface: Surface = "api", principal: str = ANONYMOUS
    ) -> list[dict[str, str]]:
        """The thread's remembered messages (role and text); NotFound for another's thread."""
        key = thread_key(surface, thread_id)
        try:
            if self.locks is not None:
                await self.locks.claim(key, principal)
            else:
                self._claim_locally(key, principal)
            state = await self.graph.aget_state({"configurable": {"thread_id": key}})
        except psycopg.OperationalError as exc:  # the pools' PoolTimeout too
            raise DatabaseUnavailableError(f"conversation memory unavailable: {exc}") from exc
        return [
            {"role": "user" if m.type == "human" else "assistant", "text": str(m.content)}
            for m in state.values.get("messages", [])
        ]
