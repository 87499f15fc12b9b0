"""Conversation memory: LangGraph's Postgres checkpointer on its own async pool."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg_pool import AsyncConnectionPool

from knowledge.database import async_pool

_SETUP_LOCK = 7_274_221_002  # serialises checkpointer migrations across processes


class ThreadMemory:
    """Owns the pool and the saver; `setup` applies the checkpointer's own migrations once."""

    def __init__(self, dsn: str, max_size: int = 5, timeout: float = 5.0) -> None:
        self.pool: AsyncConnectionPool[Any] = async_pool(
            dsn, max_size=max_size, timeout=timeout, prepare=False
        )
        self.saver = AsyncPostgresSaver(self.pool)  # type: ignore[arg-type]

    async def open(self) -> AsyncPostgresSaver:
        """Open the pool and create the checkpoint tables if needed."""
        await self.pool.open(wait=True)
        async with self.pool.connection() as conn:
            await conn.execute("SELECT pg_advisory_lock(%s)", (_SETUP_LOCK,))
            try:
                await self.saver.setup()
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK,))
        return self.saver

    async def close(self) -> None:
        await self.pool.close()
