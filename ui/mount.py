"""Mount the Chainlit web chat on the API app and let its callbacks find that app's services.

Chainlit is a process-wide singleton (one server app, one config, one set of callbacks), read
from `$CHAINLIT_APP_ROOT/.chainlit/config.toml` when `chainlit` is first imported (the `ui`
package points that variable at `ui/` before anything imports Chainlit). This module mounts
Chainlit once per process with `chainlit.utils.mount_chainlit`, and reuses the same Chainlit
app for any later FastAPI app (tests build many). A small ASGI middleware on each parent app
(`ui.scope.ParentAppScope`) marks `/ui` traffic as served by that parent, so a chat turn, a
login and a history query use the services and database of the app that served them, never a
global guess. Outermost, `ui.cors.OriginPolicy` lets only the page's own origin and those of
`CORS_ORIGINS` call the chat (Chainlit's own CORS allows any), and `ui.errors` gives Chainlit's
errors the API's documented shape.

Each parent app also gets its web chat history store (`ui.threads`), with the route serving the
stored charts of past conversations, and a middleware logging browsers in on page loads
(`ui.auth.PageLogin`); the secret signing those logins is exported for Chainlit before the
first mount (`ui.auth.ensure_auth_secret`).
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from agent.settings import Settings, load_settings
from ui.auth import SIGNING_KEY_ENV, PageLogin, ensure_auth_secret
from ui.cors import OriginPolicy
from ui.errors import install_error_handlers
from ui.scope import ParentAppScope
from ui.threads import install_thread_store

UI_DIR = Path(__file__).resolve().parent
APP_FILE = UI_DIR / "app.py"

_mounted_path: str | None = None


def mount_web_ui(app: FastAPI, path: str = "/ui", settings: Settings | None = None) -> None:
    """Serve the Chainlit chat (`ui/app.py`) under `path` of `app`, with its history store.

    The first call in a process loads Chainlit and the chat module (and gives Chainlit's app the
    documented error shape); later calls mount the same Chainlit app (Chainlit cannot be loaded
    twice, nor under two root paths). `settings` (default: read from the environment, as the
    API does) give the origins allowed to call the chat (`CORS_ORIGINS`) and locate the login
    secret when `CHAINLIT_AUTH_SECRET` is unset.
    """
    global _mounted_path
    if _mounted_path is not None and path != _mounted_path:
        raise ValueError(
            f"the web chat is already mounted at {_mounted_path} in this process; "
            f"Chainlit cannot also serve it at {path}"
        )
    from chainlit.server import app as chainlit_app
    from chainlit.utils import mount_chainlit

    # after importing chainlit, which loads `.env` into the environment
    config = settings or load_settings()
    if not os.environ.get(SIGNING_KEY_ENV, "").strip():
        ensure_auth_secret(config)
    prefix = app.root_path.rstrip("/") + path
    install_thread_store(app, prefix)  # its route must come before the mount
    if _mounted_path is None:
        install_error_handlers(chainlit_app)
        mount_chainlit(app=app, target=str(APP_FILE), path=path)
        _mounted_path = path
    else:
        app.mount(path, chainlit_app)
    app.add_middleware(PageLogin, parent=app, prefix=prefix)
    app.add_middleware(ParentAppScope, parent=app, prefix=prefix)
    # outermost: a foreign origin is refused before anything else runs
    app.add_middleware(OriginPolicy, prefix=prefix, origins=config.cors_origins)
