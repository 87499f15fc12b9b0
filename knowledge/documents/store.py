"""The document store in Postgres: documents, chunks, their vectors, and the embedding space.

`chunks.embedding` is created for the dimension of the configured model by
`ensure_embedding_space`. When the model changes (another name or dimension), the column and
its HNSW index are dropped and re-created, and every chunk is re-embedded, in one transaction:
readers see either the old vectors or the new ones, never a mix. Each chunk also records the
model of its vector, and searches only compare vectors of the model in force.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from knowledge.database import Database
from knowledge.documents.models import ChunkDraft, ParsedDocument, TextEmbedder
from knowledge.errors import KnowledgeError

log = logging.getLogger(__name__)

SPACE_LOCK = 7_274_221_005  # advisory lock: exclusive to change the space, shared to write
INDEX_NAME = "chunks_embedding_hnsw"
ReembedProgress = Callable[[int, int], None]


class StoreError(KnowledgeError):
    """The document store cannot do what was asked (schema missing, vector size mismatch)."""


@dataclass(frozen=True)
class EmbeddingSpace:
    """The model whose vectors the store holds."""

    model: str
    dimension: int


def vector_literal(vector: np.ndarray | Sequence[float]) -> str:
    """pgvector's text form `[0.1,0.2,...]` (6 significant digits are plenty for unit vectors)."""
    return "[" + ",".join(f"{x:.6g}" for x in np.asarray(vector, dtype=np.float32).tolist()) + "]"


def embedding_input(title: str, section: str, text: str) -> str:
    """The text a chunk's vector is computed from: its document title and section give context."""
    head = f"{title}. {section}." if section else f"{title}."
    return f"{head}\n{text}"


class DocumentStore:
    """Reads and writes `documents`, `chunks` and `embedding_space`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- embedding space -------------------------------------------------------------------

    def space(self) -> EmbeddingSpace | None:
        """The recorded model and dimension, None before the first `ensure_embedding_space`."""
        with self.db.connection() as conn:
            row = conn.execute("SELECT model, dimension FROM embedding_space").fetchone()
        return EmbeddingSpace(row[0], int(row[1])) if row else None

    @staticmethod
    def _column_dimension(conn: psycopg.Connection) -> int | None:
        row = conn.execute(
            "SELECT atttypmod FROM pg_attribute WHERE attrelid = 'chunks'::regclass "
            "AND attname = 'embedding' AND NOT attisdropped"
        ).fetchone()
        return int(row[0]) if row else None

    def ensure_embedding_space(
        self,
        embedder: TextEmbedder,
        *,
        batch_size: int = 64,
        progress: ReembedProgress | None = None,
    ) -> bool:
        """Make the vector column fit `embedder`; re-embed every chunk if the model changed.

        Cheap when nothing changed (the model is not even loaded). Returns True when the
        column was (re)built.
        """
        with self.db.connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (SPACE_LOCK,))
            try:
                row = conn.execute("SELECT model, dimension FROM embedding_space").fetchone()
                column = self._column_dimension(conn)
                if row and row[0] == embedder.model_name and column == int(row[1]):
                    return False
                dimension = int(embedder.dimension)
                with conn.transaction():
                    self._rebuild(conn, embedder, dimension, batch_size, progress)
                log.info(
                    "knowledge store: embedding space now %s (%d dimensions), was %s",
                    embedder.model_name,
                    dimension,
                    f"{row[0]} ({row[1]})" if row else "empty",
                )
                return True
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (SPACE_LOCK,))

    def _rebuild(
        self,
        conn: psycopg.Connection,
        embedder: TextEmbedder,
        dimension: int,
        batch_size: int,
        progress: ReembedProgress | None,
    ) -> None:
        conn.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")
        conn.execute("ALTER TABLE chunks DROP COLUMN IF EXISTS embedding")
        conn.execute(f"ALTER TABLE chunks ADD COLUMN embedding vector({dimension})")
        conn.execute("UPDATE chunks SET embedding_model = NULL")
        conn.execute(
            "INSERT INTO embedding_space (singleton, model, dimension) VALUES (true, %s, %s) "
            "ON CONFLICT (singleton) DO UPDATE SET model = excluded.model, "
            "dimension = excluded.dimension, updated_at = now()",
            (embedder.model_name, dimension),
        )
        rows = conn.execute("SELECT id, title, section, text FROM chunks ORDER BY id").fetchall()
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            vectors = embedder.embed([embedding_input(r[1], r[2], r[3]) for r in batch])
            self._check(vectors, len(batch), dimension)
            with conn.cursor() as cur:
                cur.executemany(
                    "UPDATE chunks SET embedding = %s::vector, embedding_model = %s WHERE id = %s",
                    [
                        (vector_literal(v), embedder.model_name, r[0])
                        for r, v in zip(batch, vectors, strict=True)
                    ],
                )
            if progress:
                progress(min(start + batch_size, len(rows)), len(rows))
        self.create_vector_index(conn)

    @staticmethod
    def create_vector_index(
        conn: psycopg.Connection, m: int = 16, ef_construction: int = 64
    ) -> None:
        """The HNSW index (cosine distance) on `chunks.embedding`."""
        conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
        conn.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON chunks USING hnsw "
            f"(embedding vector_cosine_ops) WITH (m = {int(m)}, ef_construction = {int(ef_construction)})"
        )

    @staticmethod
    def _check(vectors: np.ndarray, count: int, dimension: int) -> None:
        if vectors.shape != (count, dimension):
            raise StoreError(
                f"the embedder returned vectors of shape {vectors.shape}, "
                f"expected ({count}, {dimension})"
            )

    # ---- documents -------------------------------------------------------------------------

    def hashes(self, origin: str | None = None) -> dict[str, str]:
        """source -> content hash of every stored document (of one origin, or all)."""
        where, params = ("WHERE origin = %s", (origin,)) if origin else ("", ())
        with self.db.connection() as conn:
            rows = conn.execute(f"SELECT source, content_hash FROM documents {where}", params)
            return {source: digest for source, digest in rows}

    def replace_document(
        self,
        doc: ParsedDocument,
        chunks: Sequence[ChunkDraft],
        vectors: np.ndarray,
        model: str,
    ) -> tuple[int, bool]:
        """Insert or replace a document and all its chunks atomically; (id, was it new)."""
        with self.db.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", (SPACE_LOCK,))
            space = conn.execute("SELECT model, dimension FROM embedding_space").fetchone()
            if space is None or space[0] != model:
                raise StoreError(
                    f"the store holds vectors of {space[0] if space else 'no model'}, not {model}; "
                    "call ensure_embedding_space first"
                )
            self._check(vectors, len(chunks), int(space[1]))
            existed = conn.execute(
                "SELECT id FROM documents WHERE source = %s FOR UPDATE", (doc.source,)
            ).fetchone()
            row = conn.execute(
                """INSERT INTO documents (source, origin, kind, title, symbols, published_at,
                       content_hash, chunk_count, metadata)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
                   ON CONFLICT (source) DO UPDATE SET origin = excluded.origin,
                       kind = excluded.kind, title = excluded.title, symbols = excluded.symbols,
                       published_at = excluded.published_at, content_hash = excluded.content_hash,
                       chunk_count = excluded.chunk_count, metadata = excluded.metadata,
                       ingested_at = now()
                   RETURNING id""",
                (
                    doc.source,
                    doc.origin,
                    doc.kind,
                    doc.title,
                    list(doc.symbols),
                    doc.published_at,
                    doc.content_hash,
                    len(chunks),
                    Jsonb(doc.metadata),
                ),
            ).fetchone()
            assert row is not None
            doc_id = int(row[0])
            conn.execute("DELETE FROM chunks WHERE document_id = %s", (doc_id,))
            with conn.cursor() as cur:
                cur.executemany(
                    """INSERT INTO chunks (document_id, ordinal, title, section, text, kind,
                           symbols, published_at, embedding, embedding_model)
                       VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::vector, %s)""",
                    [
                        (doc_id, c.ordinal, doc.title, c.section, c.text, doc.kind,
                         list(doc.symbols), doc.published_at, vector_literal(v), model)
                        for c, v in zip(chunks, vectors, strict=True)
                    ],
                )  # fmt: skip
        return doc_id, existed is None

    def delete_sources(self, sources: Sequence[str]) -> int:
        """Remove documents (and their chunks) by source; the number removed."""
        if not sources:
            return 0
        with self.db.connection() as conn, conn.transaction():
            cur = conn.execute("DELETE FROM documents WHERE source = ANY(%s)", (list(sources),))
            return cur.rowcount

    def analyze(self) -> None:
        """Refresh the planner's statistics of `chunks` (word frequencies used by full text)."""
        with self.db.connection() as conn:
            conn.execute("ANALYZE chunks")

    def documents(self, origin: str | None = None) -> list[dict[str, Any]]:
        """Stored documents (without chunks), newest ingest first."""
        where, params = ("WHERE origin = %s", (origin,)) if origin else ("", ())
        with self.db.connection() as conn:
            cur = conn.execute(
                f"""SELECT id, source, origin, kind, title, symbols, published_at, content_hash,
                           chunk_count, ingested_at
                    FROM documents {where} ORDER BY ingested_at DESC, id DESC""",
                params,
            )
            names = [d.name for d in cur.description or []]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def stats(self) -> dict[str, Any]:
        """Counts per kind, chunk totals and the embedding space (for status pages)."""
        with self.db.connection() as conn:
            kinds = dict(
                conn.execute("SELECT kind, count(*) FROM documents GROUP BY kind").fetchall()
            )
            chunk_row = conn.execute(
                "SELECT count(*), count(embedding_model) FROM chunks"
            ).fetchone()
        space = self.space()
        return {
            "documents": sum(kinds.values()),
            "by_kind": kinds,
            "chunks": int(chunk_row[0]) if chunk_row else 0,
            "embedded_chunks": int(chunk_row[1]) if chunk_row else 0,
            "embedding_model": space.model if space else None,
            "dimension": space.dimension if space else None,
        }
