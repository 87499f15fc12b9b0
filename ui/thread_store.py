"""The web chat history of one API app: a small pool on its database, opened on first use.

`ThreadStore` hands out connections to the tables of `knowledge/migrations/0003_web_threads.sql`
(the statements on them are in `ui.thread_sql`) and reads back a stored element for the route
that serves it (`ui.threads`). Each API app has its own store, kept in its state under
`STORE_KEY`; `current_store` finds the one of the app serving the current call (`ui.scope`).

Database failures leave it as the agent's errors, which the web chat answers in the documented
error shape (`ui.errors`): an unreachable server as `DatabaseUnavailableError` (503), and a
value Postgres refuses (a NUL character, a negative limit) as `InvalidRequestError` (422). A
request the database already failed once fails at once after that, so it answers within
`DB_TIMEOUT_SECONDS` however many queries it makes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, ClassVar

import psycopg
from fastapi import FastAPI
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolClosed

from agent.core import Services
from agent.errors import DatabaseUnavailableError, InvalidRequestError, UnavailableError
from agent.graph.memory import async_pool
from ui.scope import request_state, serving_app

STORE_KEY = "web_threads"
ELEMENTS_PATH = "/stored-elements"
POOL_MAX_SIZE = 4


class ThreadStoreUnavailable(UnavailableError):
    """The web chat history cannot be reached: no API app serves this call, or it is starting."""

    code = "web_chat_unavailable"
    logged: ClassVar[bool] = False


class ThreadStore:
    """The web chat tables of one API app's database, through a small pool opened on first use.

    The pool is opened lazily from the app's started services (their DSN and timeout) and closed
    when the app shuts down (`install_thread_store` hooks the app's lifespan).
    """

    def __init__(self, app: FastAPI, ui_prefix: str) -> None:
        self.app = app
        self.ui_prefix = ui_prefix.rstrip("/")
        self._pool: AsyncConnectionPool[Any] | None = None
        self._opening: asyncio.Lock | None = None

    def element_url(self, element_id: str) -> str:
        """Where the browser fetches a stored element (see `element_response`)."""
        return f"{self.ui_prefix}{ELEMENTS_PATH}/{element_id}"

    async def _open_pool(self) -> AsyncConnectionPool[Any]:
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool is not None:
                return self._pool
            services = getattr(self.app.state, "services", None)
            if not isinstance(services, Services) or not services.dsn:
                raise ThreadStoreUnavailable("the web chat history is not ready: services starting")
            timeout = services.settings.db_timeout_seconds
            pool = async_pool(services.dsn, max_size=POOL_MAX_SIZE, timeout=timeout)
            try:
                await pool.open(wait=True, timeout=timeout)
            except BaseException:
                await pool.close()  # its workers would otherwise retry forever
                raise
            self._pool = pool
            return pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        """A pooled autocommit connection whose rows are dicts.

        Raises `DatabaseUnavailableError` when the server cannot be reached (at once when it
        already failed this request) and `InvalidRequestError` for a value Postgres refuses.
        """
        state = request_state()
        if state is not None and state.database_down:
            raise DatabaseUnavailableError("the web chat history database is unavailable")
        try:
            pool = self._pool or await self._open_pool()
            async with pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolClosed) as exc:
            if state is not None:
                state.database_down = True
            raise DatabaseUnavailableError("the web chat history database is unavailable") from exc
        except psycopg.DataError as exc:
            raise InvalidRequestError(
                "a value of this request cannot be stored or searched (a NUL character?)"
            ) from exc

    async def close(self) -> None:
        """Close the pool (the app is shutting down); a later call would open a new one."""
        pool, self._pool, self._opening = self._pool, None, None
        if pool is not None:
            await pool.close()

    async def fetch_one(self, query: Any, params: Any) -> dict[str, Any] | None:
        """The first row of a query's result (None when there is none)."""
        async with self.connection() as conn:
            cursor = await conn.execute(query, params)
            return await cursor.fetchone()

    async def fetch_all(self, query: Any, params: Any) -> list[dict[str, Any]]:
        """Every row of a query's result."""
        async with self.connection() as conn:
            cursor = await conn.execute(query, params)
            return await cursor.fetchall()

    async def element_content(self, element_id: str, user: str) -> tuple[bytes, str] | None:
        """A stored element's bytes and mime type, only for the owner of its thread."""
        row = await self.fetch_one(
            """SELECT e.content, e.mime
                 FROM web_elements e
                 JOIN web_threads t ON t.id = e.thread_id
                 JOIN web_users u ON u.id = t.user_id
                WHERE e.id = %s AND u.identifier = %s AND e.content IS NOT NULL""",
            (element_id, user),
        )
        if row is None:
            return None
        return bytes(row["content"]), str(row["mime"] or "application/octet-stream")


def store_of(app: Any) -> ThreadStore | None:
    """The thread store installed on an API app, if any."""
    store = getattr(getattr(app, "state", None), STORE_KEY, None)
    return store if isinstance(store, ThreadStore) else None


def current_store() -> ThreadStore | None:
    """The thread store of the app serving the current request or socket session."""
    return store_of(serving_app())
