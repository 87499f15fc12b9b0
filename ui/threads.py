"""The web chat history: Chainlit's data layer on the assistant's own Postgres (psycopg 3).

With it Chainlit lists a user's past conversations in the sidebar, redisplays one (messages,
tool steps, charts) and resumes it on the same thread id, which is also the agent's memory key:
a follow-up in a resumed conversation is answered with that conversation's memory.

The parts, by role:

- `ui.thread_store`: `ThreadStore`, the connections to one API app's database, and
  `current_store`, the store of the app serving the current call (Chainlit holds one data
  layer per process while each API app has its own database; see `ui.scope`);
- `agent.services.web_history`: the statements on the tables of
  `knowledge/migrations/0003_web_threads.sql` (under `knowledge.web_threads`);
- `ui.thread_records`: what of Chainlit's steps and elements is stored, and its dicts rebuilt
  from the rows;
- `ui.data_layer`: `PostgresDataLayer`, Chainlit's `BaseDataLayer` on top of them;
- this module: `install_thread_store`, which gives an API app its store and the route serving
  stored elements (chart JSON) back to the thread's owner by `element_response` under the web
  chat's path, because Chainlit's own file URLs only live as long as the browser session that
  produced them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response

from agent.services.web_history import MAX_THREAD_NAME
from ui.auth import cookie_user
from ui.data_layer import PostgresDataLayer
from ui.errors import error_json
from ui.thread_store import (
    ELEMENTS_PATH,
    POOL_MAX_SIZE,
    STORE_KEY,
    ThreadStore,
    ThreadStoreUnavailable,
    current_store,
    store_of,
)

__all__ = [
    "ELEMENTS_PATH",
    "MAX_THREAD_NAME",
    "POOL_MAX_SIZE",
    "STORE_KEY",
    "PostgresDataLayer",
    "ThreadStore",
    "ThreadStoreUnavailable",
    "current_store",
    "element_response",
    "install_thread_store",
    "store_of",
]


async def element_response(request: Request, element_id: str) -> Response:
    """A stored element (a chart's JSON) for the logged-in owner of its conversation.

    401 without a valid login cookie; 404 for an element that does not exist or belongs to
    somebody else, so other people's element ids are not even confirmed.
    """
    user = cookie_user(request.cookies)
    if user is None:
        return error_json(401, "unauthorized", "Not logged in to the web chat.")
    store = store_of(request.app)
    found = await store.element_content(element_id, user) if store is not None else None
    if found is None:
        return error_json(404, "not_found", "No such element.")
    content, mime = found
    return Response(
        content,
        media_type=mime,
        headers={
            "Cache-Control": "private, max-age=86400",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


def install_thread_store(app: FastAPI, ui_prefix: str) -> ThreadStore:
    """Give `app` its thread store, the route serving stored elements, and close it at shutdown.

    Call before mounting the web chat at `ui_prefix`, so the route is matched before the mount.
    """
    store = ThreadStore(app, ui_prefix)
    setattr(app.state, STORE_KEY, store)
    app.add_api_route(
        f"{store.ui_prefix}{ELEMENTS_PATH}/{{element_id}}",
        element_response,
        methods=["GET"],
        include_in_schema=False,
    )
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(parent: Any) -> AsyncIterator[Any]:
        async with inner(parent) as state:
            try:
                yield state
            finally:
                await store.close()

    app.router.lifespan_context = lifespan
    return store
