"""The prices table: idempotent upserts, point-in-time reads, coverage and sync state."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import pandas as pd
import psycopg

from knowledge.as_of import last_bar_start
from knowledge.database import Database

COLUMNS = ["open", "high", "low", "close", "volume"]
INTERVALS = ("1d", "1h")
Interval = Literal["1d", "1h"]


@dataclass(frozen=True)
class Coverage:
    """What is stored for one symbol and interval."""

    symbol: str
    interval: str
    first: datetime
    last: datetime
    rows: int
    source: str


@dataclass(frozen=True)
class SyncState:
    """The outcome of the last provider refresh for one symbol and interval."""

    symbol: str
    interval: str
    source: str
    last_attempt_at: datetime
    last_success_at: datetime | None
    ok: bool
    message: str


@dataclass(frozen=True)
class UpsertResult:
    """Rows offered, and how many were new or changed."""

    offered: int
    written: int


class PriceRepository:
    """Reads and writes OHLCV bars; every read can be bounded by `as_of`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextmanager
    def _use(self, conn: psycopg.Connection | None) -> Iterator[psycopg.Connection]:
        """The caller's connection (several reads, one checkout) or a borrowed one."""
        if conn is not None:
            yield conn
        else:
            with self.db.connection() as own:
                yield own

    def upsert(
        self,
        symbol: str,
        interval: str,
        bars: pd.DataFrame,
        source: str,
        conn: psycopg.Connection | None = None,
    ) -> UpsertResult:
        """Insert or update bars in one transaction (COPY into a temp table, then merge).

        Unchanged rows are not rewritten, so importing the same file twice changes nothing.
        """
        if conn is None:
            with self.db.connection() as own, own.transaction():
                return self._upsert(own, symbol, interval, bars, source)
        return self._upsert(conn, symbol, interval, bars, source)

    def _upsert(
        self, conn: psycopg.Connection, symbol: str, interval: str, bars: pd.DataFrame, source: str
    ) -> UpsertResult:
        if bars.empty:
            return UpsertResult(0, 0)
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS incoming_bars (ts timestamptz, open float8,"
            " high float8, low float8, close float8, volume float8) ON COMMIT DELETE ROWS"
        )
        frame = bars[COLUMNS]
        with conn.cursor() as cur:
            with cur.copy(
                "COPY incoming_bars (ts, open, high, low, close, volume) FROM STDIN"
            ) as copy:
                for ts, row in zip(frame.index, frame.itertuples(index=False), strict=True):
                    copy.write_row((ts.to_pydatetime(), *row))
            cur.execute(
                """INSERT INTO price_bars AS p
                       (symbol, interval, ts, open, high, low, close, volume, source)
                   SELECT %s, %s, ts, open, high, low, close, volume, %s FROM incoming_bars
                   ON CONFLICT (symbol, interval, ts) DO UPDATE SET
                       open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
                       close = EXCLUDED.close, volume = EXCLUDED.volume,
                       source = EXCLUDED.source, updated_at = now()
                   WHERE (p.open, p.high, p.low, p.close, p.volume, p.source)
                         IS DISTINCT FROM
                         (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close,
                          EXCLUDED.volume, EXCLUDED.source)""",
                (symbol, interval, source),
            )
            written = cur.rowcount
            cur.execute("DELETE FROM incoming_bars")
        return UpsertResult(len(frame), max(written, 0))

    def read(
        self,
        symbol: str,
        interval: str = "1d",
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        as_of: datetime | None = None,
        limit: int | None = None,
        conn: psycopg.Connection | None = None,
    ) -> pd.DataFrame:
        """Bars starting in `[start, end]` that have closed by the instant `as_of` (the
        project's one rule, `knowledge.as_of`); `limit` keeps the latest N."""
        clauses = ["symbol = %s", "interval = %s"]
        params: list[object] = [symbol, interval]
        closed = last_bar_start(as_of, interval) if as_of is not None else None
        for op, bound in (("ts >= %s", start), ("ts <= %s", end), ("ts <= %s", closed)):
            if bound is not None:
                clauses.append(op)
                params.append(bound)
        where = " AND ".join(clauses)
        if limit is not None:
            sql = (
                f"SELECT * FROM (SELECT ts, open, high, low, close, volume FROM price_bars "
                f"WHERE {where} ORDER BY ts DESC LIMIT %s) last ORDER BY ts"
            )
            params.append(limit)
        else:
            sql = f"SELECT ts, open, high, low, close, volume FROM price_bars WHERE {where} ORDER BY ts"
        with self._use(conn) as c:
            rows = c.execute(sql, params).fetchall()  # type: ignore[call-overload]
        frame = pd.DataFrame(rows, columns=["ts", *COLUMNS])
        frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
        return frame.set_index("ts").astype(float)

    def sources(
        self,
        symbol: str,
        interval: str,
        start: datetime | None,
        end: datetime | None,
        conn: psycopg.Connection | None = None,
    ) -> list[str]:
        """The distinct providers that wrote the bars of a range (e.g. csv, yfinance)."""
        with self._use(conn) as c:
            rows = c.execute(
                "SELECT DISTINCT source FROM price_bars WHERE symbol = %s AND interval = %s"
                " AND ts >= coalesce(%s, '-infinity'::timestamptz)"
                " AND ts <= coalesce(%s, 'infinity'::timestamptz) ORDER BY 1",
                (symbol, interval, start, end),
            ).fetchall()
        return [row[0] for row in rows]

    def last_timestamp(
        self, symbol: str, interval: str, conn: psycopg.Connection | None = None
    ) -> datetime | None:
        """The newest stored bar's time, or None when nothing is stored."""
        with self._use(conn) as c:
            row = c.execute(
                "SELECT max(ts) FROM price_bars WHERE symbol = %s AND interval = %s",
                (symbol, interval),
            ).fetchone()
        return row[0] if row else None

    def span(
        self, symbol: str, interval: str, conn: psycopg.Connection | None = None
    ) -> tuple[datetime, datetime] | None:
        """The first and the last stored bar's time, or None when nothing is stored."""
        with self._use(conn) as c:
            row = c.execute(
                "SELECT min(ts), max(ts) FROM price_bars WHERE symbol = %s AND interval = %s",
                (symbol, interval),
            ).fetchone()
        return (row[0], row[1]) if row and row[0] is not None else None

    def coverage(self) -> list[Coverage]:
        """First and last bar, row count and latest source per stored symbol and interval."""
        with self.db.connection() as conn:
            rows = conn.execute(
                """SELECT symbol, interval, min(ts), max(ts), count(*),
                          (array_agg(source ORDER BY ts DESC))[1]
                   FROM price_bars GROUP BY symbol, interval ORDER BY symbol, interval"""
            ).fetchall()
        return [Coverage(*row) for row in rows]

    def record_sync(
        self, symbol: str, interval: str, source: str, ok: bool, message: str, at: datetime
    ) -> None:
        """Remember the outcome of a provider refresh (success time kept across failures)."""
        with self.db.connection() as conn:
            conn.execute(
                """INSERT INTO market_sync AS s
                       (symbol, interval, source, last_attempt_at, last_success_at, ok, message)
                   VALUES (%s, %s, %s, %s, CASE WHEN %s THEN %s::timestamptz END, %s, %s)
                   ON CONFLICT (symbol, interval) DO UPDATE SET
                       source = EXCLUDED.source, last_attempt_at = EXCLUDED.last_attempt_at,
                       last_success_at = COALESCE(EXCLUDED.last_success_at, s.last_success_at),
                       ok = EXCLUDED.ok, message = EXCLUDED.message""",
                (symbol, interval, source, at, ok, at, ok, message),
            )

    def sync_states(
        self, conn: psycopg.Connection | None = None
    ) -> dict[tuple[str, str], SyncState]:
        """The last refresh outcome per (symbol, interval)."""
        with self._use(conn) as c:
            rows = c.execute(
                "SELECT symbol, interval, source, last_attempt_at, last_success_at, ok, message "
                "FROM market_sync"
            ).fetchall()
        return {(r[0], r[1]): SyncState(*r) for r in rows}

    def file_already_imported(self, sha256: str) -> bool:
        """True when a file with this content hash was imported before."""
        with self.db.connection() as conn:
            row = conn.execute("SELECT 1 FROM data_imports WHERE sha256 = %s LIMIT 1", (sha256,))
            return row.fetchone() is not None
