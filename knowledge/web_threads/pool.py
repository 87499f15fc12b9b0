"""The web chat history's connections: a small asyncio pool on the assistant's database,
opened on first use.

Failures leave as the store's errors: an unreachable server as `DatabaseUnavailableError`
(503) and a value Postgres refuses (a NUL character, a negative limit) as `StoredValueError`
(422).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolClosed

from knowledge.database import async_pool
from knowledge.errors import DatabaseUnavailableError, KnowledgeError, RequestError

POOL_MAX_SIZE = 4
UNAVAILABLE = "the web chat history database is unavailable"


class StoredValueError(RequestError, KnowledgeError):
    """A value of the request that Postgres cannot store or search (422)."""

    code = "invalid_request"


class Connections(Protocol):
    """What the statements run on: pooled autocommit connections whose rows are dicts."""

    def connection(self) -> Any: ...

    async def fetch_one(self, query: Any, params: Any) -> dict[str, Any] | None: ...

    async def fetch_all(self, query: Any, params: Any) -> list[dict[str, Any]]: ...


class WebThreadPool:
    """The pool of one database, opened on first use and closed by `close`."""

    def __init__(self, dsn: str, timeout: float, max_size: int = POOL_MAX_SIZE) -> None:
        self.dsn = dsn
        self.timeout = timeout
        self.max_size = max_size
        self._pool: AsyncConnectionPool[Any] | None = None
        self._opening: asyncio.Lock | None = None

    async def _open(self) -> AsyncConnectionPool[Any]:
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool is not None:
                return self._pool
            pool = async_pool(self.dsn, max_size=self.max_size, timeout=self.timeout)
            try:
                await pool.open(wait=True, timeout=self.timeout)
            except BaseException:
                await pool.close()  # its workers would otherwise retry forever
                raise
            self._pool = pool
            return pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        """A pooled connection; the store's errors for a lost server or a refused value."""
        try:
            pool = self._pool or await self._open()
            async with pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolClosed) as exc:
            raise DatabaseUnavailableError(UNAVAILABLE) from exc
        except psycopg.DataError as exc:
            raise StoredValueError(
                "a value of this request cannot be stored or searched (a NUL character?)"
            ) from exc

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

    async def close(self) -> None:
        """Close the pool (after an opening under way); a later call opens a new one."""
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
