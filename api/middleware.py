"""The gatekeeper: request ids, size limits, per-client rate limits, metrics and access logs.

A pure ASGI middleware (no buffering of streamed responses). Every refusal uses the API's one
error shape, and so does the answer to an unexpected error: it is caught here, logged with its
traceback and answered with a JSON 500 carrying the request id (never re-raised, so the
server's plain-text 500 never follows it and the keep-alive connection stays usable). Body
timeouts and in-flight caps are in `api.bounds`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.bounds import BodyTimeout, Exchange, Incoming, InFlight, expensive
from api.errors import BodyTooLarge, error_body, error_response, patch_openapi
from api.logging_setup import REQUEST_ID

log = logging.getLogger("api.access")
# request ids need to be unique, not secret: a seeded generator, not a system call per request
_IDS = random.Random()
_VALID_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
EXEMPT = ("/health", "/metrics", "/docs", "/redoc", "/openapi.json", "/ui", "/telegram/")
CHAT = ("/chat", "/ai-analysis")
ADMIN = ("/admin/", "/models/")
_BODY_TIMEOUT = "The request body stopped arriving: no data for {} s."
_LIMIT_SETTING = {g: f"rate_limit_{g}_per_minute" for g in ("chat", "admin", "data")}
_ACCESS = "%s %s %s %.1fms"
__all__ = ["BodyTooLarge", "Gatekeeper", "install", "route_group"]


def route_group(path: str, method: str) -> str | None:
    """Which rate-limit group a request belongs to (None = not limited; CORS preflights
    neither, since they do no work)."""
    if method == "OPTIONS" or path == "/" or path.startswith(EXEMPT):
        return None
    if path.startswith(CHAT):
        return "chat"
    if path.startswith(ADMIN) and method != "GET":
        return "admin"
    return "data"


class _Decisions:
    """What the gatekeeper decides from (path, method) alone, kept for the paths seen lately."""

    def __init__(self, size: int = 4096) -> None:
        self._seen: dict[tuple[str, str], tuple[str | None, bool]] = {}
        self._size = size

    def __call__(self, path: str, method: str) -> tuple[str | None, bool]:
        """The rate-limit group and whether the in-flight cap applies."""
        key = (path, method)
        found = self._seen.get(key)
        if found is None:
            if len(self._seen) >= self._size:
                self._seen.clear()
            found = self._seen[key] = (route_group(path, method), expensive(path, method))
        return found


class Gatekeeper:
    """Wraps the app; reads limits and the limiter from `app.state.services` once started."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.in_flight = InFlight()
        self.decide = _Decisions()
        self._key_ids: dict[str, str] = {}

    def _client(self, scope: Scope, incoming: Incoming, trust_forwarded: bool) -> str:
        key = incoming.api_key
        if key:
            found = self._key_ids.get(key)
            if found is None:
                if len(self._key_ids) >= 1024:
                    self._key_ids.clear()
                found = "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]
                self._key_ids[key] = found
            return found
        forwarded = incoming.forwarded if trust_forwarded else None
        if forwarded:
            return "ip:" + forwarded.split(",")[0].strip()
        client = scope.get("client")
        return "ip:" + (client[0] if client else "unknown")

    async def _refuse(
        self,
        send: Send,
        status: int,
        code: str,
        message: str,
        headers: list[tuple[bytes, bytes]],
        details: Any = None,
    ) -> None:
        body = json.dumps(error_body(code, message, details)).encode()
        length = str(len(body)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", length),
                    *headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        app_state = scope["app"].state
        services = getattr(app_state, "services", None)
        metrics = getattr(app_state, "metrics", None)
        incoming = Incoming(scope["headers"])
        given = incoming.request_id
        request_id = given if given and _VALID_ID.match(given) else f"{_IDS.getrandbits(128):032x}"
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500
        extra: list[tuple[bytes, bytes]] = [(b"x-request-id", request_id.encode())]
        path, method = scope["path"], scope["method"]
        exchange = Exchange()
        holder: str | None = None  # the client holding an in-flight slot

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if exchange.replaced:
                return
            if message["type"] == "http.response.start":
                if exchange.body_timed_out:  # the app answered its failed body read: ours wins
                    exchange.replaced = True
                    await fail(408, "request_timeout", _BODY_TIMEOUT.format(timeout))
                    return
                status = message["status"]
                exchange.started = True
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        async def fail(code_status: int, code: str, message: str) -> None:
            """Answer with the error shape if the response has not started (else nothing can
            be said: returning leaves an unfinished response, which the server closes)."""
            nonlocal status
            if exchange.started:
                return
            status = code_status
            exchange.started = True
            # a body left unread (stalled or too large) would be read as the next request
            closing = code_status in (408, 413)
            headers = [*extra, (b"connection", b"close")] if closing else extra
            details = {"request_id": request_id} if code_status == 500 else None
            await self._refuse(send, code_status, code, message, headers, details)

        timeout = 0.0
        try:
            if services is not None:
                settings = services.settings
                timeout = settings.body_timeout_seconds
                if len(scope.get("query_string", b"")) > settings.max_query_chars:
                    status = 414
                    await self._refuse(
                        send,
                        414,
                        "query_too_long",
                        f"The query string is longer than {settings.max_query_chars} characters.",
                        extra,
                    )
                    return
                length = incoming.length
                if length and length.isdigit() and int(length) > settings.max_body_bytes:
                    status = 413
                    await self._refuse(
                        send,
                        413,
                        "body_too_large",
                        f"The request body is larger than {settings.max_body_bytes} bytes.",
                        extra,
                    )
                    return
                group, capped = self.decide(path, method)
                client = self._client(scope, incoming, settings.trust_forwarded_for)
                if group is not None:
                    limit = getattr(settings, _LIMIT_SETTING[group])
                    decision = await services.limiter.hit(group, client, limit)
                    extra += [
                        (b"x-ratelimit-limit", b"%d" % decision.limit),
                        (b"x-ratelimit-remaining", b"%d" % decision.remaining),
                    ]
                    if not decision.allowed:
                        status = 429
                        if metrics is not None:
                            metrics.rate_limited.labels(group).inc()
                        await self._refuse(
                            send,
                            429,
                            "rate_limited",
                            f"Too many requests: {limit} per minute for {group} routes. Try again in {decision.retry_after} s.",
                            [*extra, (b"retry-after", str(decision.retry_after).encode())],
                        )
                        return
                if capped:
                    cap = settings.max_in_flight_per_client
                    if not self.in_flight.acquire(client, cap):
                        status = 429
                        await self._refuse(
                            send,
                            429,
                            "too_many_in_flight",
                            f"At most {cap} requests at a time per client on this route; "
                            "wait for one to finish.",
                            [*extra, (b"retry-after", b"1")],
                        )
                        return
                    holder = client
                if incoming.has_body:  # no body to bound: the one empty message passes as is
                    receive = exchange.bounded(receive, settings.max_body_bytes, timeout)
            try:
                await self.app(scope, receive, send_with_headers)
            except BodyTooLarge:
                await fail(413, "body_too_large", "The request body is too large.")
            except BodyTimeout:
                await fail(408, "request_timeout", _BODY_TIMEOUT.format(timeout))
            except Exception:
                # the one answer to an unexpected error: logged with its traceback, never
                # re-raised, so no plain-text 500 follows and the connection stays usable
                log.exception("unhandled error on %s %s", method, path)
                await fail(500, "internal_error", "Something went wrong on our side.")
        finally:
            if holder is not None:
                self.in_flight.release(holder)
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or (
                "/ui" if path.startswith("/ui") else "unmatched"
            )
            if metrics is not None:
                metrics.observe(method, route, status, elapsed)
            if log.isEnabledFor(logging.INFO):
                _access_log(method, path, status, elapsed)
            REQUEST_ID.reset(token)


def _access_log(method: str, path: str, status: int, elapsed: float) -> None:
    """The access line, made and handed to the handlers directly (the logger would also look
    up the caller's source line on every request; nothing prints it)."""
    ms = elapsed * 1000
    fields = {"method": method, "path": path, "status": status, "ms": round(ms, 1)}
    record = log.makeRecord(
        log.name, logging.INFO, __file__, 0, _ACCESS, (method, path, status, ms), None, None, fields
    )
    log.handle(record)


def _document_refusals(schema: dict[str, Any]) -> None:
    """Add the gatekeeper's own answers to every operation it can refuse, so the schema lists
    every status a client can get (408 and 413 with a body, 414 and 500 always, 429 on limited
    routes)."""
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation:
                responses.setdefault(
                    "408", error_response("Body stalled past BODY_TIMEOUT_SECONDS")
                )
                responses.setdefault("413", error_response("Request body over MAX_BODY_BYTES"))
            responses.setdefault("414", error_response("Query string over MAX_QUERY_CHARS"))
            if route_group(path, method.upper()) is not None:
                responses.setdefault("429", error_response("Rate limit reached; see Retry-After"))
            responses.setdefault("500", error_response("Unexpected error; quote X-Request-ID"))


def install(app: Any) -> None:
    """Add the gatekeeper as the outermost middleware and document its refusals."""
    app.add_middleware(Gatekeeper)
    patch_openapi(app, _document_refusals)
