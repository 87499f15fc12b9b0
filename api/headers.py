"""Security headers on every HTTP response, with a Content-Security-Policy per kind of page.

A pure ASGI middleware, installed outermost so the gatekeeper's refusals (413, 414, 429), the
web chat's and every error response get the headers too. A header the app already set is never
replaced. The policies:

- the JSON API (every path but the two below): nothing may load, nothing may frame it;
- `/docs` and `/redoc` (FastAPI's Swagger UI and ReDoc pages): their bundles and styles from
  cdn.jsdelivr.net, ReDoc's Google fonts and search worker (a `blob:` URL), the favicon from
  fastapi.tiangolo.com, the schema fetched from this origin;
- `/ui` (the Chainlit web chat): its scripts, API calls and socket from this origin only
  (`'self'` covers `ws:`/`wss:` of the same host), React's inline styles, its Google font and
  the KaTeX stylesheet and fonts from cdn.jsdelivr.net, `data:`/`blob:` images (charts); an
  image that a message links from any other host is not loaded.

Inline scripts are allowed by hash, never with `'unsafe-inline'`: for an HTML page the
middleware hashes each inline `<script>` of the body it serves and lists those hashes in
`script-src`, so the policy always matches the page actually sent (Chainlit writes its config
into one of its inline scripts) and no injected script can run.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zlib
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = (
    "default-src 'none'; "
    "script-src 'self' https://cdn.jsdelivr.net{scripts}; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' data: https://fonts.gstatic.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com; "
    "connect-src 'self'; worker-src 'self' blob:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
UI_CSP = (
    "default-src 'self'; "
    "script-src 'self'{scripts}; "
    "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com https://cdn.jsdelivr.net; "
    "font-src 'self' data: https://fonts.gstatic.com https://cdn.jsdelivr.net; "
    "img-src 'self' data: blob:; media-src 'self' data: blob:; "
    "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
BASE_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
# HTML pages bigger than this (also once unzipped) are sent with no inline script allowed
MAX_HASHED_BYTES = 1_000_000
_INLINE_SCRIPT = re.compile(
    rb"<script\b(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL
)


def inline_script_hashes(html: bytes) -> list[str]:
    """CSP sources (`'sha256-...'`) for every inline script of an HTML document."""
    found: list[str] = []
    for match in _INLINE_SCRIPT.finditer(html):
        digest = base64.b64encode(hashlib.sha256(match.group(1)).digest()).decode()
        source = f"'sha256-{digest}'"
        if source not in found:
            found.append(source)
    return found


def _decoded(page: bytes, headers: Iterable[tuple[bytes, bytes]]) -> bytes | None:
    """The page as the browser reads it (Chainlit gzips its index), None when unreadable."""
    encoding = b"".join(v for k, v in headers if k.lower() == b"content-encoding").strip()
    if encoding in (b"", b"identity"):
        return page
    if encoding.lower() != b"gzip":
        return None
    inflate = zlib.decompressobj(wbits=31)
    try:
        text = inflate.decompress(page, MAX_HASHED_BYTES)
    except zlib.error:
        return None
    return text if not inflate.unconsumed_tail else None


def _is_html(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    return any(k.lower() == b"content-type" and b"text/html" in v.lower() for k, v in headers)


def security_headers(policy: str) -> tuple[tuple[bytes, bytes], ...]:
    """The headers every response gets, with `policy` as its Content-Security-Policy."""
    return (*BASE_HEADERS, (b"content-security-policy", policy.encode()))


API_HEADERS = security_headers(API_CSP)


def _with_headers(message: Message, wanted: tuple[tuple[bytes, bytes], ...]) -> Message:
    """The response start with each security header the app has not already set."""
    headers = list(message.get("headers", ()))
    present = {key.lower() for key, _ in headers}
    headers.extend(header for header in wanted if header[0] not in present)
    return {**message, "headers": headers}


class SecurityHeaders:
    """Adds the security headers to every HTTP response of the wrapped app."""

    def __init__(
        self, app: ASGIApp, *, ui_prefix: str = "/ui", docs_paths: Iterable[str] = ()
    ) -> None:
        self.app = app
        self.ui_prefix = ui_prefix.rstrip("/")
        self.docs_paths = tuple(p.rstrip("/") for p in docs_paths if p)
        self._policies: dict[str, str | None] = {}  # per path seen lately

    def cached_policy(self, path: str) -> str | None:
        """`policy(path)`, looked up once per path (the cache is emptied when it grows large)."""
        try:
            return self._policies[path]
        except KeyError:
            if len(self._policies) >= 4096:
                self._policies.clear()
            found = self._policies[path] = self.policy(path)
            return found

    def policy(self, path: str) -> str | None:
        """The CSP template for a path (None: the JSON API's fixed policy)."""
        if path == self.ui_prefix or path.startswith(self.ui_prefix + "/"):
            return UI_CSP
        for docs in self.docs_paths:
            if path == docs or path.startswith(docs + "/"):
                return DOCS_CSP
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        template = self.cached_policy(path)
        if template is None:  # the JSON API: fixed headers, the body is never looked at

            async def send_api(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message = _with_headers(message, API_HEADERS)
                await send(message)

            await self.app(scope, receive, send_api)
        else:
            await self.app(scope, receive, _Sender(send, template.format(scripts=""), template))


class _Sender:
    """The `send` of one response: adds the headers, hashing an HTML page's inline scripts."""

    def __init__(self, send: Send, policy: str, template: str | None) -> None:
        self.send = send
        self.policy = policy
        self.template = template
        self.start: Message | None = None  # held back while an HTML body is read
        self.chunks: list[bytes] = []
        self.size = 0

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            if self.template is not None and _is_html(message.get("headers", [])):
                self.start = message
                return
            await self.send(_with_headers(message, security_headers(self.policy)))
            return
        if self.start is None or message["type"] != "http.response.body":
            await self.send(message)
            return
        body = message.get("body", b"")
        self.chunks.append(body)
        self.size += len(body)
        more = bool(message.get("more_body", False))
        if more and self.size <= MAX_HASHED_BYTES:
            return
        page = b"".join(self.chunks)
        policy = self.policy
        text = _decoded(page, self.start.get("headers", [])) if not more else None
        if text is not None and self.template is not None:
            hashes = inline_script_hashes(text)
            policy = self.template.format(scripts="".join(" " + h for h in hashes))
        start, self.start, self.chunks = self.start, None, []
        await self.send(_with_headers(start, security_headers(policy)))
        await self.send({"type": "http.response.body", "body": page, "more_body": more})


def install(app: Any, *, ui_prefix: str = "/ui") -> None:
    """Wrap the whole app, outside even Starlette's `ServerErrorMiddleware`, so the gatekeeper's
    refusals and an unexpected error's 500 get the headers as well as every other response."""
    build = app.build_middleware_stack
    docs = (app.docs_url, app.redoc_url)

    def build_with_headers() -> ASGIApp:
        return SecurityHeaders(build(), ui_prefix=ui_prefix, docs_paths=[d for d in docs if d])

    app.build_middleware_stack = build_with_headers
