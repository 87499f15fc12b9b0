"""Who is chatting in the browser, and the secret that signs their login cookie.

Chainlit only lists and resumes stored conversations for an authenticated user, so the web chat
logs every visitor in, without a login form:

- by default there is one local user, `local`: whoever opens `/ui` sees the same conversation
  list (the assistant runs on 127.0.0.1 for one person);
- with `WEB_USER_HEADER` set (e.g. `X-Forwarded-User`), the user is the value of that header,
  set by a trusted reverse proxy that authenticates people; a request without it is refused,
  so traffic that bypasses the proxy never lands in somebody's history.

`PageLogin` sets Chainlit's login cookie when a browser loads a web chat page (and replaces it
when the proxy now names somebody else), so the page opens straight into the chat; Chainlit's
header login (`/ui/auth/header`, the `header_auth_callback` of `ui.app`) remains the fallback
when a cookie expires while a page is open.

Chainlit signs the login cookie (a JWT) with `CHAINLIT_AUTH_SECRET`. When it is not set, a
random secret is generated once and kept in `DATA_HOME/chainlit_auth_secret`, so `make run`
needs no set-up and logins survive restarts. Replicas serving the same users must share one
explicit `CHAINLIT_AUTH_SECRET`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

import jwt
from chainlit.auth import clear_auth_cookie, create_jwt, decode_jwt, get_token_from_cookies
from chainlit.auth import set_auth_cookie as set_chainlit_cookie
from chainlit.user import User
from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent.settings import Settings
from ui.scope import started_services

SIGNING_KEY_ENV = "CHAINLIT_AUTH_SECRET"
SIGNING_KEY_FILE = "chainlit_auth_secret"
MIN_SECRET_CHARS = 32
LOCAL_USER = "local"
MAX_IDENTIFIER_CHARS = 200


def load_or_create_secret(path: Path) -> str:
    """The secret stored at `path`, created (mode 0600) when missing.

    Two processes starting together agree on one secret: each writes its candidate to a private
    temporary file and hard-links it into place, which fails for the second; that one reads the
    winner's complete file instead.
    """
    if path.exists():
        return _read_secret(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate = secrets.token_urlsafe(48)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(candidate + "\n")
        os.link(temporary, path)
    except FileExistsError:
        return _read_secret(path)
    finally:
        temporary.unlink(missing_ok=True)
    return candidate


def _read_secret(path: Path) -> str:
    secret = path.read_text().strip()
    if len(secret) < MIN_SECRET_CHARS:
        raise ValueError(
            f"{path} holds no usable web chat secret (under {MIN_SECRET_CHARS} characters): "
            "delete it to generate a new one, or set CHAINLIT_AUTH_SECRET"
        )
    return secret


def ensure_auth_secret(settings: Settings) -> str:
    """Export `CHAINLIT_AUTH_SECRET` for Chainlit: the environment's, the settings', or the file's.

    Chainlit reads the variable from `os.environ` when it signs or checks a cookie, and refuses
    to mount an app with authentication and no secret.
    """
    current = os.environ.get(SIGNING_KEY_ENV, "").strip()
    if current:
        return current
    configured = settings.chainlit_auth_secret
    secret = (
        configured.get_secret_value().strip()
        if configured is not None
        else load_or_create_secret(settings.data_home / SIGNING_KEY_FILE)
    )
    os.environ[SIGNING_KEY_ENV] = secret
    return secret


def web_user(headers: Mapping[str, str], header: str | None) -> User | None:
    """The user of a login request: the local user, or the one the trusted header names.

    None (login refused) when a header is required but missing, empty, too long, or holding
    control characters.
    """
    if header is None:
        return User(identifier=LOCAL_USER, display_name="Local user", metadata={"auth": "local"})
    value = (headers.get(header) or "").strip()
    if not value or len(value) > MAX_IDENTIFIER_CHARS or not value.isprintable():
        return None
    return User(identifier=value, metadata={"auth": "header", "header": header})


def cookie_user(cookies: Mapping[str, str]) -> str | None:
    """The identifier in a valid Chainlit login cookie (None: no cookie, expired or forged)."""
    token = get_token_from_cookies(dict(cookies))
    if not token:
        return None
    try:
        return decode_jwt(token).identifier
    except (jwt.InvalidTokenError, TypeError, ValueError):
        return None


class PageLogin:
    """Pure ASGI middleware: logs the browser in when it loads a web chat page under `prefix`.

    On a page load (a GET asking for HTML) it compares the login cookie with the user this
    request should have (`web_user`): when they differ it sets a cookie for that user, or clears
    the cookie when the trusted header is now missing. Cookies are written by Chainlit's own
    helpers, so their name and attributes are Chainlit's. Other requests pass untouched.
    """

    def __init__(self, app: ASGIApp, parent: FastAPI, prefix: str) -> None:
        self.app = app
        self.parent = parent
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cookies = self._cookies_for(scope)
        if not cookies:
            await self.app(scope, receive, send)
            return

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *cookies]}
            await send(message)

        await self.app(scope, receive, send_with_cookies)

    def _cookies_for(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        """The Set-Cookie headers this page load needs (none when the cookie is right)."""
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not scope["path"].startswith(self.prefix)
            or "text/html" not in Headers(scope=scope).get("accept", "")
        ):
            return []
        services = started_services(self.parent)
        if services is None:
            return []  # not ready: Chainlit's login page will say so
        request = Request(scope)
        user = web_user(request.headers, services.settings.web_user_header)
        current = cookie_user(request.cookies)
        if (user.identifier if user else None) == current:
            return []
        response = Response()
        if user is None:
            clear_auth_cookie(request, response)
        else:
            set_chainlit_cookie(request, response, create_jwt(user))
        return [(name, value) for name, value in response.raw_headers if name == b"set-cookie"]
