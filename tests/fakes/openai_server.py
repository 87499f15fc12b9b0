"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1.

The real `langchain-openai` / `openai` client talks to it through `base_url`, so tests run the
provider's request building, tool-call parsing and timeout handling offline. Each
`POST /v1/chat/completions` consumes the next item of the script:

- a `Reply` (built with `say`, `call_tools`, `fail` or `hang`), or
- a callable receiving the request body (JSON) and returning a `Reply` or a plain string; this is
  how a test writes a final answer from the tool results the client sent back (role "tool").

Every request is recorded (path, headers, parsed body). When the script runs out the server
answers 500 and records the request in `unexpected`.

    with FakeOpenAI() as server:
        server.script(
            call_tools(tool_call("technical_analysis", {"symbol": "BTC-USD"})),
            lambda body: say(f"RSI {tool_payload(tool_messages(body)[0])['values']['rsi_14']:.1f}"),
        )
        settings = make_settings(llm_model="openai:gpt-test", openai_base_url=server.base_url,
                                 openai_api_key="sk-test-...")
        ...
        assert tool_messages(server.chat_requests[1].body)
        assert server.chat_requests[0].headers["authorization"] == "Bearer sk-test-..."
"""

from __future__ import annotations

import ast
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.http import FakeHTTPServer, QuietHandler, RecordingHTTPServer

CHAT_PATH = "/v1/chat/completions"
# the settings of a test of native tool calling against this server: it is on loopback, where
# LLM_TOOL_MODE=auto would route by schema, and the keyless planner is sure of most test
# questions, where LLM_ASK=unsure would not ask the model
ASK_NATIVE = {"llm_tool_mode": "native", "llm_ask": "always"}


@dataclass
class ToolCall:
    """One function call the scripted model makes."""

    name: str
    arguments: dict[str, Any]
    id: str = ""

    def to_openai(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": json.dumps(self.arguments)},
        }


@dataclass
class Reply:
    """One scripted answer: assistant text and/or tool calls, or an HTTP error, maybe late."""

    content: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    status: int = 200
    error_message: str = "The server had an error while processing your request."
    delay: float = 0.0
    prompt_tokens: int = 120
    completion_tokens: int = 30


ScriptItem = Reply | Callable[[dict[str, Any]], "Reply | str"]


def say(text: str, **kwargs: Any) -> Reply:
    """A final assistant message."""
    return Reply(content=text, **kwargs)


def tool_call(name: str, arguments: dict[str, Any], id: str = "") -> ToolCall:
    """A function call; the id defaults to `call_<n>` when the reply is served."""
    return ToolCall(name, arguments, id)


def call_tools(*calls: ToolCall, content: str | None = None, **kwargs: Any) -> Reply:
    """An assistant message asking for one or more (parallel) tool calls."""
    return Reply(content=content, tool_calls=list(calls), **kwargs)


def fail(status: int = 500, message: str = "The server had an error.") -> Reply:
    """An HTTP error in OpenAI's error format."""
    return Reply(status=status, error_message=message)


def hang(seconds: float, then: Reply | None = None) -> Reply:
    """Answer only after `seconds` (longer than the client timeout simulates a provider timeout)."""
    late = then or say("This answer arrived too late.")
    late.delay = seconds
    return late


def tool_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The role "tool" messages of a chat-completions request body."""
    return [m for m in body.get("messages", []) if m.get("role") == "tool"]


def system_prompt(body: dict[str, Any]) -> str:
    """The text of the system (or developer) message of a request body, "" if none."""
    for message in body.get("messages", []):
        if message.get("role") in ("system", "developer"):
            content = message.get("content")
            if isinstance(content, list):
                return "".join(part.get("text", "") for part in content)
            return str(content or "")
    return ""


def tool_payload(message: dict[str, Any]) -> Any:
    """A tool message's content as data (JSON, or a Python literal such as `str(dict)`)."""
    content = message.get("content")
    if isinstance(content, list):
        content = "".join(part.get("text", "") for part in content)
    text = str(content)
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def answer_from_rsi(body: dict[str, Any]) -> Reply:
    """A scripted final answer quoting the RSI(14) from the first tool result of the request."""
    report = tool_payload(tool_messages(body)[0])
    return say(f"BTC-USD daily RSI(14) is {report['values']['rsi_14']:.1f}.")


@dataclass
class RecordedRequest:
    """One request received: method, path, lower-cased headers, parsed JSON body (or None)."""

    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    body: Any
    status: int | None = None


class _Server(FakeHTTPServer):
    fake: FakeOpenAI


class _Handler(QuietHandler):
    server: _Server

    def _handle(self) -> None:
        fake = self.server.fake
        raw = self.read_body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        record = RecordedRequest(
            self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, raw, body
        )
        fake._record(record)
        if self.command != "POST" or self.path.split("?")[0] != CHAT_PATH:
            record.status = 404
            self.send_json(404, _error(f"the fake serves only POST {CHAT_PATH}", "not_found"))
            return
        reply = fake._next(record)
        if reply.delay and fake._release.wait(reply.delay):
            self.close_connection = True
            return  # the server is stopping
        record.status = reply.status
        if reply.status >= 400:
            self.send_json(reply.status, _error(reply.error_message, "server_error"))
            return
        model = str((body or {}).get("model", "gpt-test"))
        if (body or {}).get("stream"):
            self.send_body(200, "text/event-stream", fake._stream_body(reply, model))
        else:
            self.send_json(200, fake._completion(reply, model))

    do_POST = _handle
    do_GET = _handle


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class FakeOpenAI(RecordingHTTPServer[RecordedRequest]):
    """The scripted server; `script(...)` queues replies, `requests` records what came in.

    `base_url` is `http://127.0.0.1:PORT/v1`, the value for `OPENAI_BASE_URL`.
    """

    def __init__(self, *items: ScriptItem) -> None:
        super().__init__(_Handler, _Server, name="fake-openai", path="/v1")
        self._script: list[ScriptItem] = list(items)
        self.unexpected: list[RecordedRequest] = []
        self.errors: list[str] = []
        self._ids = itertools.count(1)
        self._release = threading.Event()

    def _stopping(self) -> None:
        """Release delayed replies."""
        self._release.set()

    # ----- script and records -----

    def script(self, *items: ScriptItem) -> None:
        """Append replies, consumed one per chat-completions request, in order."""
        with self._lock:
            self._script.extend(items)

    @property
    def remaining(self) -> int:
        """Script items not consumed yet."""
        with self._lock:
            return len(self._script)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The chat-completions requests, in arrival order."""
        return [r for r in self.requests if r.path.split("?")[0] == CHAT_PATH]

    def _next(self, record: RecordedRequest) -> Reply:
        with self._lock:
            item = self._script.pop(0) if self._script else None
        if item is None:
            self.unexpected.append(record)
            return fail(500, "the fake OpenAI script is exhausted")
        if isinstance(item, Reply):
            return item
        try:
            built = item(record.body or {})
        except Exception as exc:  # a failing script callable must show up in the test
            self.errors.append(f"{type(exc).__name__}: {exc}")
            return fail(500, f"script callable failed: {exc}")
        return say(built) if isinstance(built, str) else built

    # ----- response bodies -----

    def _tool_calls(self, reply: Reply) -> list[dict[str, Any]]:
        calls = []
        for call in reply.tool_calls:
            if not call.id:
                call.id = f"call_{next(self._ids)}"
            calls.append(call.to_openai())
        return calls

    def _usage(self, reply: Reply) -> dict[str, int]:
        return {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        }

    def _completion(self, reply: Reply, model: str) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.content, "refusal": None}
        if reply.tool_calls:
            message["tool_calls"] = self._tool_calls(reply)
        return {
            "id": f"chatcmpl-fake{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": "tool_calls" if reply.tool_calls else "stop",
                }
            ],
            "usage": self._usage(reply),
        }

    def _stream_body(self, reply: Reply, model: str) -> bytes:
        """The same reply as server-sent events (for clients that stream)."""
        base = {
            "id": f"chatcmpl-fake{next(self._ids)}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }
        delta: dict[str, Any] = {"role": "assistant", "content": reply.content or ""}
        if reply.tool_calls:
            delta["tool_calls"] = [
                {"index": i, **call} for i, call in enumerate(self._tool_calls(reply))
            ]
        finish = "tool_calls" if reply.tool_calls else "stop"
        chunks = [
            {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]},
            {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]},
            {**base, "choices": [], "usage": self._usage(reply)},
        ]
        events = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        return events.encode()
