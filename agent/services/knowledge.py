"""The knowledge service: search, ingest, the shipped corpus, model cards, news.

Front-ends call `KnowledgeService` (the REST search, the `knowledge` CLI); the agent's search
tool is declared in the tool table (`agent.toolkit`), and offline answers quote its hits through
`agent.offline.writers.compose_knowledge_answer`, which never acts on text inside them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from knowledge.as_of import as_of_instant
from knowledge.database import Database
from knowledge.documents import (
    CORPUS_DIR,
    ChunkingConfig,
    DocumentStore,
    Ingestor,
    IngestProgress,
    IngestResult,
    Kind,
    NewsItem,
    Retriever,
    SearchFilters,
    SearchMode,
    TextEmbedder,
)
from knowledge.documents.model_cards import model_card_documents
from knowledge.documents.news import news_documents
from knowledge.market.symbols import resolve
from knowledge.models.registry import ModelRegistry

log = logging.getLogger(__name__)
KindName = Literal["guide", "coin", "news", "model_card"]


def _as_datetime(value: date | datetime | None) -> datetime | None:
    """The `as_of` instant (`knowledge.as_of`): a date is the end of that UTC day."""
    return None if value is None else as_of_instant(value)


class KnowledgeService:
    """The document store behind one facade, built once per process by `Services`."""

    def __init__(
        self,
        db: Database,
        embedder: TextEmbedder,
        *,
        registry: ModelRegistry | None = None,
        corpus_dir: Path = CORPUS_DIR,
        chunking: ChunkingConfig | None = None,
        ef_search: int = 100,
    ) -> None:
        self.store = DocumentStore(db)
        self.embedder = embedder
        self.registry = registry
        self.corpus_dir = corpus_dir
        self.ingestor = Ingestor(self.store, embedder, chunking)
        self.retriever = Retriever(db, embedder, ef_search=ef_search)
        self._space_ready = False

    def ensure_embedding_space(self) -> bool:
        """Fit the vector column to the configured model, re-embedding on a change of model."""
        changed = self.store.ensure_embedding_space(self.embedder)
        self._space_ready = True
        return changed

    def search(
        self,
        query: str,
        k: int = 5,
        kind: str | Sequence[str] | None = None,
        symbol: str | None = None,
        as_of: date | datetime | None = None,
        mode: SearchMode = "hybrid",
    ) -> dict[str, Any]:
        """`{query, hits:[{doc_id, title, source, section, score, text, ...}]}`, best first.

        `symbol` accepts any alias (unknown -> `UnknownSymbolError`); `as_of` keeps documents
        published before that instant (timeless guides always qualify).
        """
        if not self._space_ready:
            self.ensure_embedding_space()
        kinds = (kind,) if isinstance(kind, str) else tuple(kind) if kind else None
        filters = SearchFilters(
            kinds=kinds,
            symbol=resolve(symbol).symbol if symbol else None,
            as_of=_as_datetime(as_of),
        )
        hits = self.retriever.search(query, k, filters, mode)
        return {"query": query, "hits": [hit.as_dict() for hit in hits]}

    def ingest(
        self,
        paths: Sequence[Path],
        progress: IngestProgress | None = None,
        prune: bool = False,
        kind: Kind = "guide",
    ) -> list[IngestResult]:
        """Index files or folders (md, txt, html, pdf); unchanged files are skipped."""
        results = self.ingestor.ingest_paths(
            paths, default_kind=kind, prune=prune, progress=progress
        )
        self._space_ready = True
        self.retriever.term_stats.invalidate()
        return results

    def ensure_corpus(self, progress: IngestProgress | None = None) -> list[IngestResult]:
        """Index the shipped corpus; cheap when nothing changed (hashes only, no model load)."""
        results = self.ingestor.ingest_paths(
            [self.corpus_dir], origin="corpus", base=self.corpus_dir, prune=True, progress=progress
        )
        self._space_ready = True
        self.retriever.term_stats.invalidate()
        changed = [r for r in results if r.status != "unchanged"]
        log.info("knowledge corpus: %d documents, %d changed", len(results), len(changed))
        for failed in (r for r in results if r.status == "failed"):
            log.warning("knowledge corpus: %s not indexed: %s", failed.source, failed.message)
        return results

    def refresh_model_cards(self) -> list[IngestResult]:
        """Re-index the model cards from the registry (call after training or promotion)."""
        if self.registry is None:
            return []
        docs = model_card_documents(self.registry.versions(), self.ingestor.config.signature)
        results = self.ingestor.ingest_documents(docs)
        wanted = {doc.source for doc in docs}
        stale = [s for s in self.store.hashes("model_card") if s not in wanted]
        self.store.delete_sources(stale)
        self._space_ready = True
        return results + [IngestResult(s, "removed") for s in stale]

    def index_news(self, items: Iterable[NewsItem | dict[str, Any]]) -> list[IngestResult]:
        """Index news articles (title, text, url, published_at, symbols) as `news` documents."""
        docs = news_documents(items, self.ingestor.config.signature)
        results = self.ingestor.ingest_documents(docs)
        self._space_ready = True
        return results

    def stats(self) -> dict[str, Any]:
        """Document and chunk counts and the embedding model in force."""
        return self.store.stats()
