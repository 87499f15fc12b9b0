"""Hybrid retrieval: nearest vectors (HNSW) and full-text matches, fused by reciprocal rank.

Both lists are filtered the same way (kind, coin, `as_of`), inside the index scans: the vector
query runs with `hnsw.iterative_scan = relaxed_order`, so a selective filter still yields
`k` rows instead of the few that survive among the first `ef_search` neighbours. The full-text
side ranks by `ts_rank` over the OR of the question's lexemes, titles and section headings
weighted above the body, and selects candidates by its rarer words (`fulltext.TermStats`).

Reciprocal rank fusion scores a chunk by the sum of 1 / (60 + rank) over the lists it is in:
no score calibration between cosine distances and text ranks is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import psycopg

from knowledge.database import Database
from knowledge.documents.fulltext import TermStats
from knowledge.documents.models import KINDS, Hit, SearchMode, TextEmbedder
from knowledge.documents.store import vector_literal
from knowledge.errors import KnowledgeError

RRF_K = 60


class SearchError(KnowledgeError):
    """A search request that cannot be run (unknown kind, bad k)."""


@dataclass(frozen=True)
class SearchFilters:
    """What a hit must satisfy; None means no constraint."""

    kinds: tuple[str, ...] | None = None
    symbol: str | None = None  # Yahoo symbol, already resolved
    as_of: datetime | None = None  # published before this instant; timeless documents pass

    def sql(self, alias: str = "") -> tuple[str, list[Any]]:
        """AND-ed SQL conditions on `chunks` and their parameters."""
        col = f"{alias}." if alias else ""
        parts: list[str] = []
        params: list[Any] = []
        if self.kinds:
            unknown = [k for k in self.kinds if k not in KINDS]
            if unknown:
                raise SearchError(f"unknown kind {unknown[0]!r}; valid: {', '.join(KINDS)}")
            parts.append(f"{col}kind = ANY(%s)")
            params.append(list(self.kinds))
        if self.symbol:
            parts.append(f"{col}symbols @> ARRAY[%s]::text[]")
            params.append(self.symbol)
        if self.as_of is not None:
            parts.append(f"({col}published_at IS NULL OR {col}published_at < %s)")
            params.append(self.as_of)
        return "".join(f" AND {p}" for p in parts), params


def rrf_fuse(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of ranked id lists: (id, score), best first, ties by id."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


class Retriever:
    """Runs vector, full-text and hybrid searches over the chunks."""

    def __init__(
        self,
        db: Database,
        embedder: TextEmbedder,
        *,
        ef_search: int = 100,
        candidates: int = 20,
        rrf_k: int = RRF_K,
    ) -> None:
        self.db = db
        self.embedder = embedder
        self.ef_search = ef_search
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.term_stats = TermStats()

    def _vector_ids(
        self, conn: psycopg.Connection, query_vector: str, filters: SearchFilters, limit: int
    ) -> list[tuple[int, float]]:
        where, params = filters.sql()
        conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(self.ef_search),))
        conn.execute("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)")
        rows = conn.execute(
            f"""WITH nearest AS MATERIALIZED (
                    SELECT id, embedding <=> %s::vector AS distance FROM chunks
                    WHERE embedding_model = %s{where}
                    ORDER BY embedding <=> %s::vector LIMIT %s)
                SELECT id, distance FROM nearest ORDER BY distance, id""",
            [query_vector, self.embedder.model_name, *params, query_vector, limit],
        ).fetchall()
        return [(int(r[0]), 1.0 - float(r[1])) for r in rows]

    def _text_ids(
        self, conn: psycopg.Connection, query: str, filters: SearchFilters, limit: int
    ) -> list[tuple[int, float]]:
        text_query = self.term_stats.query(conn, query)
        if text_query is None:
            return []
        where, params = filters.sql("c")
        rows = conn.execute(
            f"""SELECT c.id, ts_rank(c.tsv, %s::tsquery, 1) AS rank FROM chunks c
                WHERE c.tsv @@ %s::tsquery{where}
                ORDER BY rank DESC, c.id LIMIT %s""",
            [text_query.rank, text_query.match, *params, limit],
        ).fetchall()
        return [(int(r[0]), float(r[1])) for r in rows]

    @staticmethod
    def _rows(conn: psycopg.Connection, scored: list[tuple[int, float]]) -> list[Hit]:
        if not scored:
            return []
        rows = conn.execute(
            """SELECT c.id, c.document_id, c.title, d.source, c.section, c.text, c.kind,
                      c.symbols, c.published_at
               FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id = ANY(%s)""",
            ([chunk_id for chunk_id, _ in scored],),
        ).fetchall()
        by_id = {int(r[0]): r for r in rows}
        hits = []
        for chunk_id, score in scored:
            r = by_id.get(chunk_id)
            if r is None:  # deleted between the two queries
                continue
            hits.append(
                Hit(chunk_id=chunk_id, doc_id=int(r[1]), title=r[2], source=r[3], section=r[4],
                    text=r[5], score=score, kind=r[6], symbols=tuple(r[7]), published_at=r[8])
            )  # fmt: skip
        return hits

    def search(
        self,
        query: str,
        k: int = 5,
        filters: SearchFilters | None = None,
        mode: SearchMode = "hybrid",
        query_vector: np.ndarray | None = None,
    ) -> list[Hit]:
        """The `k` best chunks for `query` under `filters` by the chosen method.

        `query_vector` skips embedding the query (benchmarks, callers with a vector at hand).
        """
        if not 1 <= k <= 100:
            raise SearchError("k must be between 1 and 100")
        filters = filters or SearchFilters()
        text = query.strip()
        if not text:
            return []
        pool = max(self.candidates, 4 * k)  # per list, before fusion
        vector = ""
        if mode in ("hybrid", "vector"):
            embedded = query_vector if query_vector is not None else self.embedder.embed([text])[0]
            vector = vector_literal(embedded)
        with self.db.connection() as conn, conn.transaction():
            conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")  # latency over throughput
            dense = self._vector_ids(conn, vector, filters, pool) if vector else []
            sparse = self._text_ids(conn, text, filters, pool) if mode != "vector" else []
            if mode == "vector":
                scored = dense[:k]
            elif mode == "fulltext":
                scored = sparse[:k]
            else:
                fused = rrf_fuse([[i for i, _ in dense], [i for i, _ in sparse]], self.rrf_k)
                scored = fused[:k]
            return self._rows(conn, scored)
