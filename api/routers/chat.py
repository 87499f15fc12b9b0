"""Conversation: POST /chat, POST /chat/stream (server-sent events), POST /ai-analysis."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from agent.graph.chat import ChatResult
from api.deps import ChatDep, PrincipalDep
from api.schemas import ERRORS

router = APIRouter(tags=["conversation"])
ThreadId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")]


class ChatRequest(BaseModel):
    """A message in a thread; without `thread_id` a new thread starts."""

    model_config = ConfigDict(extra="forbid")
    message: str = Field(min_length=1, max_length=20_000, examples=["Is ETH oversold?"])
    thread_id: ThreadId | None = None


class AnalysisRequest(BaseModel):
    """A question, optionally about one coin."""

    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1, max_length=20_000, examples=["Should I buy?"])
    symbol: str | None = Field(default=None, max_length=32, examples=["BTC-USD"])
    thread_id: ThreadId | None = None


def _thread(thread_id: str | None) -> str:
    return thread_id or uuid.uuid4().hex


@router.post("/chat", response_model=ChatResult, responses=ERRORS)
async def chat(body: ChatRequest, service: ChatDep, principal: PrincipalDep) -> Any:
    """One turn of a conversation; the thread keeps its memory (follow-ups work) and belongs to
    the caller's API key: another key's thread answers 404."""
    return await service.reply(
        _thread(body.thread_id), body.message, surface="api", principal=principal
    )


@router.post("/ai-analysis", response_model=ChatResult, responses=ERRORS)
async def ai_analysis(body: AnalysisRequest, service: ChatDep, principal: PrincipalDep) -> Any:
    """A one-off analysis question; `symbol` names the coin when the question does not."""
    question = f"{body.question} ({body.symbol})" if body.symbol else body.question
    return await service.reply(
        _thread(body.thread_id), question, surface="api", principal=principal
    )


@router.post(
    "/chat/stream",
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "server-sent events"},
        **ERRORS,
    },
)
async def chat_stream(
    body: ChatRequest, service: ChatDep, principal: PrincipalDep
) -> StreamingResponse:
    """The same turn as server-sent events: `tool_start`, `tool_result`, `token`, `final`."""
    thread_id = _thread(body.thread_id)
    events = service.astream(thread_id, body.message, surface="api", principal=principal)
    first = await anext(events)  # validation errors surface as a normal JSON error

    async def sse() -> AsyncIterator[str]:
        yield f"event: {first.type}\ndata: {json.dumps(first.data, default=str)}\n\n"
        async for event in events:
            yield f"event: {event.type}\ndata: {json.dumps(event.data, default=str)}\n\n"

    return StreamingResponse(sse(), media_type="text/event-stream")
