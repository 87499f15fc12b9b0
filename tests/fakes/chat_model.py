"""A scripted chat model in process: the seam for unit tests of the graph's nodes.

It replays the replies it is given (an `AIMessage`, with or without tool calls, or an exception
to raise), records every prompt it was sent, the options of each call (such as the
`response_format` of schema routing) and the tools bound to it. Integration tests use the
OpenAI-compatible server on loopback (`tests.fakes.openai_server`) instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field


class ScriptedChatModel(BaseChatModel):
    """Answers each call with the next scripted reply; fails the test when none is left."""

    replies: list[Any] = Field(default_factory=list)  # AIMessage, or an exception to raise
    prompts: list[list[BaseMessage]] = Field(default_factory=list)
    options: list[dict[str, Any]] = Field(default_factory=list)  # the keyword options per call
    bound: list[str] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Sequence[Any], **_: Any) -> ScriptedChatModel:  # type: ignore[override]
        self.bound = [tool.name for tool in tools]
        return self

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        self.prompts.append(list(messages))
        self.options.append(kwargs)
        if not self.replies:
            raise AssertionError("the scripted chat model was called more often than scripted")
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return ChatResult(generations=[ChatGeneration(message=reply)])


def tool_call(name: str, args: dict[str, Any], call_id: str = "c1") -> AIMessage:
    """A reply asking for one tool call."""
    return AIMessage("", tool_calls=[{"id": call_id, "name": name, "args": args}])
