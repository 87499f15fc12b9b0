"""Retrieval evaluation: recall@k and MRR of vector-only, full-text-only and hybrid search.

Ingests the shipped corpus (and the shared Bitcoin white paper when present) into a throw-away
embedded Postgres with the real embedding model, then asks every question of
`retrieval_questions.yaml` with each method in the same run. A question counts as found at
rank r when the r-th passage returned comes from its expected document.

    .venv/bin/python benchmarks/eval_retrieval.py [--questions FILE] [--k 5] [--show-misses]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.common import scratch_postgres  # noqa: E402

WHITEPAPER = REPO.parent / "shared" / "data" / "corpus" / "bitcoin_whitepaper.md"
MODES = ("vector", "fulltext", "hybrid")
DEPTH = 10  # passages fetched per question (MRR@10); recall is read at --k
console = Console()


def first_rank(hits: list[dict[str, Any]], source: str) -> int | None:
    """1-based rank of the first passage from `source`, None when absent."""
    for rank, hit in enumerate(hits, start=1):
        if hit["source"] == source:
            return rank
    return None


def build_service(url: str) -> Any:
    """A knowledge service on a fresh database with the corpus (and white paper) ingested."""
    from agent.services.knowledge import KnowledgeService
    from knowledge.database import Database
    from knowledge.embeddings import Embedder
    from knowledge.migrations import apply_migrations

    db = Database(url)
    db.open()
    apply_migrations(db)
    service = KnowledgeService(db, Embedder())
    started = time.perf_counter()
    corpus = service.ensure_corpus()
    chunks = sum(r.chunks for r in corpus)
    if WHITEPAPER.exists():
        paper = service.ingest([WHITEPAPER])
        chunks += sum(r.chunks for r in paper)
    console.print(
        f"Ingested {len(corpus)} corpus documents{' + the white paper' if WHITEPAPER.exists() else ''}"
        f" ({chunks} chunks) in {time.perf_counter() - started:.1f} s"
    )
    return service


def evaluate(service: Any, questions: list[dict[str, str]], k: int) -> dict[str, dict[str, Any]]:
    """Per mode: recall@1, recall@k, MRR@DEPTH, median latency and the missed questions."""
    out: dict[str, dict[str, Any]] = {}
    for mode in MODES:
        ranks: list[int | None] = []
        latencies: list[float] = []
        for item in questions:
            started = time.perf_counter()
            hits = service.search(item["q"], k=DEPTH, mode=mode)["hits"]
            latencies.append((time.perf_counter() - started) * 1000)
            ranks.append(first_rank(hits, item["source"]))
        n = len(ranks)
        out[mode] = {
            "recall@1": sum(1 for r in ranks if r == 1) / n,
            f"recall@{k}": sum(1 for r in ranks if r is not None and r <= k) / n,
            "mrr": sum(1 / r for r in ranks if r is not None) / n,
            "p50_ms": statistics.median(latencies),
            "misses": [q["q"] for q, r in zip(questions, ranks, strict=True) if r is None or r > k],
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--questions", type=Path, default=Path(__file__).with_name("retrieval_questions.yaml")
    )
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()

    questions = yaml.safe_load(args.questions.read_text())["questions"]
    for item in questions:
        item["source"] = str(WHITEPAPER.resolve()) if item["doc"] == "whitepaper" else item["doc"]
    if not WHITEPAPER.exists():
        questions = [q for q in questions if q["doc"] != "whitepaper"]
        console.print("[yellow]shared white paper not found: its questions are skipped[/yellow]")

    with scratch_postgres() as url:
        service = build_service(url)
        service.search("warm-up", k=1)  # loads the model before timing
        results = evaluate(service, questions, args.k)
        probe = "how does the network handle double spending?"
        paper_hits = service.search(probe, k=3)["hits"] if WHITEPAPER.exists() else []
        service.store.db.close()

    table = Table(title=f"Retrieval on {len(questions)} questions (passages; MRR@{DEPTH})")
    for column in ("method", "recall@1", f"recall@{args.k}", f"MRR@{DEPTH}", "median ms"):
        table.add_column(column, justify="right" if column != "method" else "left")
    for mode in MODES:
        r = results[mode]
        table.add_row(mode, f"{r['recall@1']:.3f}", f"{r[f'recall@{args.k}']:.3f}",
                      f"{r['mrr']:.3f}", f"{r['p50_ms']:.1f}")  # fmt: skip
    console.print(table)
    if paper_hits:
        console.print(f"White paper check, {probe!r}:")
        for hit in paper_hits:
            console.print(f"  {hit['score']:.4f}  {hit['title']} > {hit['section'] or '(opening)'}")
    if args.show_misses:
        for mode in MODES:
            console.print(f"[bold]{mode} misses[/bold] ({len(results[mode]['misses'])}):")
            for question in results[mode]["misses"]:
                console.print(f"  - {question}")


if __name__ == "__main__":
    main()
