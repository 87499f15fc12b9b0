"""The web chat history of one API app: its store over the agent's history pool.

`ThreadStore` hands the statements (`agent.services.web_history`) their connections, opened on
first use from the app's started services (their DSN and timeout), and reads back a stored
element for the route that serves it (`ui.threads`). Each API app has its own store, kept in its
state under `STORE_KEY`; `current_store` finds the one of the app serving the current call
(`ui.scope`).

Database failures leave as the agent's errors, which the web chat answers in the documented
error shape (`ui.errors`): an unreachable server as `DatabaseUnavailableError` (503), a value
Postgres refuses as a 422. A request the database already failed once fails at once after that,
so it answers within `DB_TIMEOUT_SECONDS` however many queries it makes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, ClassVar

from fastapi import FastAPI

from agent.core import Services
from agent.errors import DatabaseUnavailableError, UnavailableError
from agent.services.web_history import POOL_MAX_SIZE, WebThreadPool, statements
from ui.scope import request_state, serving_app

STORE_KEY = "web_threads"
ELEMENTS_PATH = "/stored-elements"
UNAVAILABLE = "the web chat history database is unavailable"

__all__ = ["ELEMENTS_PATH", "POOL_MAX_SIZE", "STORE_KEY", "ThreadStore", "ThreadStoreUnavailable"]


class ThreadStoreUnavailable(UnavailableError):
    """The web chat history cannot be reached: no API app serves this call, or it is starting."""

    code = "web_chat_unavailable"
    logged: ClassVar[bool] = False


class ThreadStore:
    """The web chat tables of one API app's database (`install_thread_store` closes its pool
    when the app shuts down)."""

    def __init__(self, app: FastAPI, ui_prefix: str) -> None:
        self.app = app
        self.ui_prefix = ui_prefix.rstrip("/")
        self._pool: WebThreadPool | None = None

    def element_url(self, element_id: str) -> str:
        """Where the browser fetches a stored element (see `element_response`)."""
        return f"{self.ui_prefix}{ELEMENTS_PATH}/{element_id}"

    def _history(self) -> WebThreadPool:
        if self._pool is None:
            services = getattr(self.app.state, "services", None)
            if not isinstance(services, Services) or not services.dsn:
                raise ThreadStoreUnavailable("the web chat history is not ready: services starting")
            self._pool = WebThreadPool(
                services.dsn, services.settings.db_timeout_seconds, POOL_MAX_SIZE
            )
        return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A pooled autocommit connection whose rows are dicts (at once `DatabaseUnavailable`
        when the database already failed this request)."""
        state = request_state()
        if state is not None and state.database_down:
            raise DatabaseUnavailableError(UNAVAILABLE)
        try:
            async with self._history().connection() as conn:
                yield conn
        except DatabaseUnavailableError:
            if state is not None:
                state.database_down = True
            raise

    async def fetch_one(self, query: Any, params: Any) -> dict[str, Any] | None:
        """The first row of a query's result (None when there is none)."""
        async with self.connection() as conn:
            cursor = await conn.execute(query, params)
            row: dict[str, Any] | None = await cursor.fetchone()
            return row

    async def fetch_all(self, query: Any, params: Any) -> list[dict[str, Any]]:
        """Every row of a query's result."""
        async with self.connection() as conn:
            cursor = await conn.execute(query, params)
            rows: list[dict[str, Any]] = await cursor.fetchall()
            return rows

    async def close(self) -> None:
        """Close the pool (the app is shutting down); a later call would open a new one."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def element_content(self, element_id: str, user: str) -> tuple[bytes, str] | None:
        """A stored element's bytes and mime type, only for the owner of its thread."""
        return await statements.element_content(self, element_id, user)


def store_of(app: Any) -> ThreadStore | None:
    """The thread store installed on an API app, if any."""
    store = getattr(getattr(app, "state", None), STORE_KEY, None)
    return store if isinstance(store, ThreadStore) else None


def current_store() -> ThreadStore | None:
    """The thread store of the app serving the current request or socket session."""
    return store_of(serving_app())
