"""Full-text queries that stay fast on large stores: common words rank, rare words select.

A question's lexemes are OR-ed for ranking (a passage rarely holds every word of a question).
Selecting candidates with that OR would touch a large share of a big table whenever a question
contains a common word ("coin", "price"), so candidates are selected by the rarest lexemes only,
as many as keep the estimated number of matching chunks within `max_rows`; when even the rarest
is that common, a chunk must contain all of them. On a small store every lexeme fits and this
is a plain OR. Word frequencies come from Postgres's own statistics of the `tsv` column
(`pg_stats.most_common_elems`, kept by ANALYZE): no bookkeeping at ingest time. A lexeme absent
from those statistics is rarer than every lexeme listed, hence selective.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import psycopg


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


@dataclass(frozen=True)
class TextQuery:
    """`match` selects candidate chunks, `rank` scores them (both tsquery text)."""

    match: str
    rank: str


class TermStats:
    """Lexeme counts of `chunks.tsv` estimated from pg_stats, cached for `ttl` seconds."""

    def __init__(self, ttl: float = 300.0, max_rows: int = 3000) -> None:
        self.ttl = ttl
        self.max_rows = max_rows
        self._freqs: dict[str, float] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        """Forget the cached frequencies (after ANALYZE)."""
        self._loaded_at = float("-inf")

    def counts(self, conn: psycopg.Connection) -> dict[str, float]:
        """lexeme -> estimated number of chunks containing it, for the most common lexemes."""
        if time.monotonic() - self._loaded_at < self.ttl:
            return self._freqs
        row = conn.execute(
            "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples "
            "FROM pg_class c LEFT JOIN pg_stats s ON s.schemaname = current_schema() "
            "AND s.tablename = 'chunks' AND s.attname = 'tsv' "
            "WHERE c.oid = 'chunks'::regclass"
        ).fetchone()
        counts: dict[str, float] = {}
        if row and row[0] and row[1] and row[2] and row[2] > 0:
            counts = {lx: float(f) * float(row[2]) for lx, f in zip(row[0], row[1], strict=False)}
        with self._lock:
            self._freqs, self._loaded_at = counts, time.monotonic()
        return counts

    def query(self, conn: psycopg.Connection, text: str) -> TextQuery | None:
        """The match and rank queries for a question; None when it has no searchable word."""
        row = conn.execute(
            "SELECT coalesce(array_agg(lexeme ORDER BY lexeme), '{}') "
            "FROM unnest(to_tsvector('english', %s))",
            (text,),
        ).fetchone()
        lexemes: list[str] = list(row[0]) if row else []
        if not lexemes:
            return None
        counts = self.counts(conn)
        selective: list[str] = []
        budget = 0.0
        for lexeme in sorted(lexemes, key=lambda lx: counts.get(lx, 0.0)):  # rarest first
            budget += counts.get(lexeme, 0.0)
            if budget > self.max_rows:
                break
            selective.append(lexeme)
        rank = " | ".join(_quote(lx) for lx in lexemes)
        match = (
            " | ".join(map(_quote, selective)) if selective else " & ".join(map(_quote, lexemes))
        )
        return TextQuery(match=match, rank=rank)
