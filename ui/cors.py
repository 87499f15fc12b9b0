"""Which browser origins may call the web chat: its own, and those listed in `CORS_ORIGINS`.

Chainlit adds its own `CORSMiddleware` from `allow_origins` of `.chainlit/config.toml` (with
credentials allowed), and its Socket.IO server checks no origin at all. The web chat logs
browsers in with a cookie, so an origin Chainlit allowed could read and change somebody's
conversations. `OriginPolicy`, a pure ASGI middleware on each parent app, governs `/ui` with the
API's `CORS_ORIGINS` setting instead (empty: no cross-origin access):

- a request of the page's own origin (or one without an `Origin` header) passes;
- a listed origin passes, with `Access-Control-Allow-Origin` set to it and credentials allowed,
  and its preflights are answered here;
- any other origin is refused with 403 in the documented error shape, without CORS headers:
  its preflights, its requests (so a cross-site form cannot act either) and its sockets.

A `*` in `CORS_ORIGINS` opens the API only: the web chat needs each origin named, since it
would hand that origin the user's login. Whatever CORS headers Chainlit (or the API's own CORS
middleware) set on `/ui` responses are replaced by these.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ui.errors import send_error

ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
PREFLIGHT_MAX_AGE = "600"
_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def _host(netloc: str, scheme: str) -> str:
    """A host[:port] in lower case, without the scheme's default port."""
    host = netloc.strip().lower()
    default = _DEFAULT_PORTS.get(scheme)
    if default and host.endswith(f":{default}"):
        host = host[: -len(default) - 1]
    return host


def same_origin(origin: str, headers: Headers) -> bool:
    """Whether `origin` is the host the request was sent to (its Host or forwarded host).

    A browser cannot set `X-Forwarded-Host` on a cross-origin request without a preflight
    (refused here), so trusting it only lets a reverse proxy that rewrites Host keep working.
    """
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    wanted = _host(parts.netloc, parts.scheme)
    hosts = [headers.get("host", ""), *headers.get("x-forwarded-host", "").split(",")]
    return any(host.strip() and _host(host, parts.scheme) == wanted for host in hosts)


def _without_cors(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in headers if not k.lower().startswith(b"access-control-")]


class OriginPolicy:
    """Pure ASGI middleware: the origin policy of the web chat served under `prefix`."""

    def __init__(self, app: ASGIApp, prefix: str, origins: Iterable[str]) -> None:
        self.app = app
        self.prefix = prefix
        self.origins = frozenset(o.strip().rstrip("/") for o in origins if o.strip() != "*")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        listed = origin is not None and origin in self.origins
        if origin is not None and not listed and not same_origin(origin, headers):
            await self._refuse(scope, send)
            return
        if (
            scope["type"] == "http"
            and scope["method"] == "OPTIONS"
            and origin is not None
            and "access-control-request-method" in headers
        ):
            await self._preflight(send, origin, headers)
            return
        cors = self._allow_headers(origin) if listed and origin is not None else []

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = _without_cors(message.get("headers", []))
                message = {**message, "headers": [*kept, *cors]}
            await send(message)

        await self.app(scope, receive, send_with_policy if scope["type"] == "http" else send)

    @staticmethod
    def _allow_headers(origin: str) -> list[tuple[bytes, bytes]]:
        return [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-credentials", b"true"),
            (b"access-control-expose-headers", b"X-Request-ID, Retry-After"),
            (b"vary", b"Origin"),
        ]

    async def _preflight(self, send: Send, origin: str, headers: Headers) -> None:
        """Answer the preflight of an allowed origin (its own or a listed one)."""
        allow = [
            *self._allow_headers(origin),
            (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
            (b"access-control-max-age", PREFLIGHT_MAX_AGE.encode()),
        ]
        requested = headers.get("access-control-request-headers")
        if requested:
            allow.append((b"access-control-allow-headers", requested.encode("latin-1")))
        await send({"type": "http.response.start", "status": 204, "headers": allow})
        await send({"type": "http.response.body", "body": b""})

    async def _refuse(self, scope: Scope, send: Send) -> None:
        """403 for a foreign origin: no CORS headers, so the browser reads nothing."""
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send_error(
            send,
            403,
            "origin_not_allowed",
            "This origin may not call the web chat (see CORS_ORIGINS).",
            [(b"vary", b"Origin")],
        )
