"""Conversation memory: LangGraph's Postgres checkpointer on its own async pool, plus per-thread
turn locks (Postgres advisory locks, so they hold across API processes) and thread ownership."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import psycopg
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from agent.errors import NotFoundError
from knowledge.database import async_pool
from knowledge.errors import DatabaseUnavailableError

_SETUP_LOCK = 7_274_221_002  # serialises checkpointer migrations across processes
_LOCK_SQL = "SELECT pg_advisory_lock(hashtextextended(%s, 0))"
_UNLOCK_SQL = "SELECT pg_advisory_unlock(hashtextextended(%s, 0))"
_CLAIM_SQL = """INSERT INTO thread_owners (thread_key, principal) VALUES (%s, %s)
    ON CONFLICT (thread_key) DO UPDATE SET thread_key = excluded.thread_key RETURNING principal"""
NOT_YOURS = "No conversation with that id."
DOWN_SECONDS = 1.0  # after a failed connection, other turns fail at once for this long


class ThreadLocks:
    """One turn at a time per thread: an in-process lock, then an advisory lock held on a
    dedicated connection of its own pool for the whole turn (returned, or closed, on cancel)."""

    def __init__(self, pool: AsyncConnectionPool[Any], timeout: float) -> None:
        self.pool = pool
        self.timeout = timeout
        self._slots = asyncio.Semaphore(pool.max_size)  # waiting for a slot is not an outage
        self._local: dict[str, tuple[asyncio.Lock, int]] = {}
        self._down_until = 0.0

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if time.monotonic() < self._down_until:
            raise DatabaseUnavailableError("conversation memory unavailable (recent failure)")
        try:
            return await self.pool.getconn(timeout=self.timeout)
        except (PoolTimeout, psycopg.OperationalError) as exc:
            self._down_until = time.monotonic() + DOWN_SECONDS
            raise DatabaseUnavailableError(f"conversation memory unavailable: {exc}") from exc

    async def _claim(
        self, conn: psycopg.AsyncConnection[Any], thread_id: str, principal: str
    ) -> None:
        """Make `principal` the thread's owner unless it has one; NotFound if another owns it."""
        cursor = await conn.execute(_CLAIM_SQL, (thread_id, principal))
        row = await cursor.fetchone()
        owner = row["principal"] if isinstance(row, dict) else row[0] if row else None
        if owner != principal:
            raise NotFoundError(NOT_YOURS)

    async def claim(self, thread_id: str, principal: str) -> None:
        """Claim the thread for `principal` outside a turn (reading its history)."""
        async with self._slots:
            conn = await self._connection()
            try:
                await self._claim(conn, thread_id, principal)
            finally:
                await self.pool.putconn(conn)

    @contextlib.asynccontextmanager
    async def hold(self, thread_id: str, principal: str | None = None) -> AsyncIterator[None]:
        """Hold the thread's lock for the block, first claiming the thread for `principal`
        (NotFound if another principal owns it); bound the wait with an outer timeout."""
        if principal is not None:  # before any lock: a stranger gets 404 without waiting a turn
            await self.claim(thread_id, principal)
        lock, users = self._local.get(thread_id, (asyncio.Lock(), 0))
        self._local[thread_id] = (lock, users + 1)
        try:
            async with lock, self._slots:
                conn = await self._connection()
                locked = False
                try:
                    await conn.execute(_LOCK_SQL, (thread_id,))
                    locked = True
                    yield
                finally:
                    await self._release(conn, thread_id, locked)
        finally:
            lock, users = self._local[thread_id]
            if users <= 1:
                del self._local[thread_id]
            else:
                self._local[thread_id] = (lock, users - 1)

    async def _release(
        self, conn: psycopg.AsyncConnection[Any], thread_id: str, locked: bool
    ) -> None:
        """Unlock and return the connection; closing it when unsure drops any session lock."""
        try:
            if locked and not conn.closed:
                async with asyncio.timeout(self.timeout):
                    await conn.execute(_UNLOCK_SQL, (thread_id,))
            else:
                await conn.close()
        except BaseException:
            await conn.close()
            raise
        finally:
            await self.pool.putconn(conn)


class ThreadSaver(AsyncPostgresSaver):
    """The checkpointer, carrying the thread locks so `ChatService` finds them on the graph."""

    locks: ThreadLocks | None = None


class ThreadMemory:
    """Owns the pools and the saver; `setup` applies the checkpointer's own migrations once."""

    def __init__(
        self, dsn: str, max_size: int = 5, timeout: float = 5.0, lock_slots: int = 20
    ) -> None:
        self.pool: AsyncConnectionPool[Any] = async_pool(
            dsn, max_size=max_size, timeout=timeout, prepare=False
        )
        self.lock_pool: AsyncConnectionPool[Any] = async_pool(
            dsn, max_size=lock_slots, timeout=timeout
        )
        self.saver = ThreadSaver(self.pool)  # type: ignore[arg-type]
        self.saver.locks = ThreadLocks(self.lock_pool, timeout)

    async def open(self) -> AsyncPostgresSaver:
        """Open the pools and create the checkpoint tables if needed."""
        await self.pool.open(wait=True)
        await self.lock_pool.open(wait=True)
        async with self.pool.connection() as conn:
            await conn.execute("SELECT pg_advisory_lock(%s)", (_SETUP_LOCK,))
            try:
                await self.saver.setup()
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK,))
        return self.saver

    async def close(self) -> None:
        """Close both pools."""
        await self.lock_pool.close()
        await self.pool.close()
