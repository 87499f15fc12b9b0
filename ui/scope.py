"""Which API app serves the current web chat request, for code Chainlit calls without a request.

Chainlit is a process-wide singleton, but tests (and embedders) build several FastAPI apps, each
with its own services and database. `ParentAppScope`, a pure ASGI middleware on each parent app,
stamps the parent into the scope of `/ui` traffic and also sets a context variable for the
duration of the request. Chainlit runs its socket handlers and its data-layer calls in tasks
created inside that request, which copy the variable, so the data layer and the login callback
(called by Chainlit with no request at hand) still find the right app's services. Each HTTP
request also gets a `RequestState`: once the database failed it, the rest of that request fails
fast instead of waiting for the database again.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from agent.core import Services

SCOPE_KEY = "crypto_assistant.parent_app"

_serving_app: ContextVar[FastAPI | None] = ContextVar("crypto_assistant_web_app", default=None)


@dataclass
class RequestState:
    """What one HTTP request under the web chat learnt so far (shared by its tasks)."""

    database_down: bool = False


_request_state: ContextVar[RequestState | None] = ContextVar(
    "crypto_assistant_web_request", default=None
)


class ParentAppScope:
    """Pure ASGI middleware: marks requests under `prefix` as served by `parent`."""

    def __init__(self, app: ASGIApp, parent: FastAPI, prefix: str) -> None:
        self.app = app
        self.parent = parent
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        scope[SCOPE_KEY] = self.parent
        token = _serving_app.set(self.parent)
        state = _request_state.set(RequestState() if scope["type"] == "http" else None)
        try:
            await self.app(scope, receive, send)
        finally:
            _request_state.reset(state)
            _serving_app.reset(token)


def request_state() -> RequestState | None:
    """The state of the web chat HTTP request being served (None in a socket session)."""
    return _request_state.get()


def started_services(parent: Any) -> Services | None:
    """The started services of a parent app, or None while they are not ready."""
    services = getattr(getattr(parent, "state", None), "services", None)
    if not isinstance(services, Services) or services.chat is None:
        return None
    return services


def services_for_scope(scope: dict[str, Any] | None) -> Services | None:
    """The started services of the app that served this request, or None when not ready."""
    return started_services((scope or {}).get(SCOPE_KEY))


def _session_app() -> FastAPI | None:
    """The parent app recorded in the current Chainlit socket session, if there is one."""
    from chainlit.context import ChainlitContextException, context

    try:
        environ = getattr(context.session, "environ", None) or {}
    except ChainlitContextException:
        return None
    parent = (environ.get("asgi.scope") or {}).get(SCOPE_KEY)
    return parent if isinstance(parent, FastAPI) else None


def serving_app() -> FastAPI | None:
    """The parent app serving the current request or socket session (None outside both)."""
    return _serving_app.get() or _session_app()
