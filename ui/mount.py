"""Mount the Chainlit web chat on the API app and let its callbacks find that app's services.

Chainlit is a process-wide singleton (one server app, one config, one set of callbacks), read
from `$CHAINLIT_APP_ROOT/.chainlit/config.toml` when `chainlit` is first imported. So this
module points `CHAINLIT_APP_ROOT` at `ui/` before that import, mounts Chainlit once per process
with `chainlit.utils.mount_chainlit`, and reuses the same Chainlit app for any later FastAPI app
(tests build many). A small ASGI middleware on each parent app stamps the parent into the
request scope of `/ui` traffic; the socket session keeps that scope, so a chat turn uses the
services of the app that served it (`services_for_scope`), never a global guess.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from agent.services import Services

UI_DIR = Path(__file__).resolve().parent
APP_FILE = UI_DIR / "app.py"
SCOPE_KEY = "crypto_assistant.parent_app"

_mounted_path: str | None = None


class ParentAppScope:
    """Pure ASGI middleware: puts the parent app into the scope of requests under `prefix`."""

    def __init__(self, app: ASGIApp, parent: FastAPI, prefix: str) -> None:
        self.app = app
        self.parent = parent
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope["path"].startswith(self.prefix):
            scope[SCOPE_KEY] = self.parent
        await self.app(scope, receive, send)


def mount_web_ui(app: FastAPI, path: str = "/ui") -> None:
    """Serve the Chainlit chat (`ui/app.py`) under `path` of `app`.

    The first call in a process loads Chainlit and the chat module; later calls mount the same
    Chainlit app (Chainlit cannot be loaded twice, nor under two root paths).
    """
    global _mounted_path
    os.environ.setdefault("CHAINLIT_APP_ROOT", str(UI_DIR))
    from chainlit.server import app as chainlit_app
    from chainlit.utils import mount_chainlit

    if _mounted_path is None:
        mount_chainlit(app=app, target=str(APP_FILE), path=path)
        _mounted_path = path
    elif path != _mounted_path:
        raise ValueError(
            f"the web chat is already mounted at {_mounted_path} in this process; "
            f"Chainlit cannot also serve it at {path}"
        )
    else:
        app.mount(path, chainlit_app)
    app.add_middleware(ParentAppScope, parent=app, prefix=app.root_path.rstrip("/") + path)


def services_for_scope(scope: dict[str, Any] | None) -> Services | None:
    """The started services of the app that served this request, or None when not ready."""
    parent = (scope or {}).get(SCOPE_KEY)
    services = getattr(getattr(parent, "state", None), "services", None)
    if not isinstance(services, Services) or services.chat is None:
        return None
    return services
