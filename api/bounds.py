"""Bounds on slow work, used by the gatekeeper: a request body must keep arriving, and the
expensive routes admit only a few requests per client at a time.

`Incoming` reads the request headers the gatekeeper needs in one pass, including whether a
body follows at all (a request without one is not wrapped). `Exchange` follows one
request/response cycle so the gatekeeper knows whether it may still answer on its own (the
response has not started) or must only end it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from starlette.types import Message, Receive

from api.errors import BodyTooLarge

# POST routes whose work is CPU-bound in this process: scoring texts. Chat turns are bounded by
# the chat rate limit, TURN_TIMEOUT_SECONDS and one turn at a time per thread instead, so a
# person who double-sends on one thread gets every turn answered in order, not a 429.
EXPENSIVE = frozenset({"/sentiment"})


def expensive(path: str, method: str) -> bool:
    """Whether a request counts against the per-client in-flight cap."""
    return method == "POST" and (path.rstrip("/") or "/") in EXPENSIVE


class Incoming:
    """The request headers the gatekeeper reads, found in one pass (the first of each wins)."""

    __slots__ = ("api_key", "forwarded", "has_body", "length", "request_id")

    def __init__(self, headers: Any) -> None:
        self.request_id = self.api_key = self.forwarded = self.length = None
        self.has_body = False
        for key, value in headers:
            if key == b"content-length":
                if self.length is None:
                    self.length = value.decode("latin-1")
                    self.has_body = self.has_body or self.length != "0"
            elif key == b"transfer-encoding":
                self.has_body = True
            elif key == b"x-request-id":
                if self.request_id is None:
                    self.request_id = value.decode("latin-1")
            elif key == b"x-api-key":
                if self.api_key is None:
                    self.api_key = value.decode("latin-1")
            elif key == b"x-forwarded-for" and self.forwarded is None:
                self.forwarded = value.decode("latin-1")


class BodyTimeout(Exception):
    """The next chunk of the request body did not arrive within BODY_TIMEOUT_SECONDS."""


@dataclass
class Exchange:
    """What has happened so far in one request/response cycle."""

    started: bool = False  # the response's status line and headers went out
    body_timed_out: bool = False  # the client stopped sending its body
    replaced: bool = False  # the app's own answer is being dropped for the gatekeeper's

    def bounded(self, receive: Receive, max_bytes: int, timeout: float) -> Receive:
        """`receive` that raises `BodyTooLarge` past `max_bytes`, and `BodyTimeout` when a body
        chunk takes longer than `timeout` s. Once the body is complete, later calls (waiting for
        a disconnect while a response streams) are not bounded."""
        seen = 0
        body_done = False

        async def wrapped() -> Message:
            nonlocal seen, body_done
            if body_done:
                return await receive()
            try:
                async with asyncio.timeout(timeout):  # lighter than anyio's cancel scope
                    message = await receive()
            except TimeoutError:
                self.body_timed_out = True
                raise BodyTimeout from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    raise BodyTooLarge
            return message

        return wrapped


class InFlight:
    """Requests in progress per client (this process only: the work they bound is local)."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def acquire(self, client: str, limit: int) -> bool:
        """Take a slot for `client`; False when it already has `limit` requests running."""
        count = self._counts.get(client, 0)
        if count >= limit:
            return False
        self._counts[client] = count + 1
        return True

    def release(self, client: str) -> None:
        count = self._counts.get(client, 0) - 1
        if count > 0:
            self._counts[client] = count
        else:
            self._counts.pop(client, None)
