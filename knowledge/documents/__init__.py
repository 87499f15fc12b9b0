"""The knowledge store: documents and chunks in Postgres with pgvector and full-text search.

- `store`: tables, the embedding space (model and dimension), atomic document replacement
- `parsing` / `chunking` / `tagging`: files to documents, documents to chunks, coin tags
- `ingestion`: idempotent ingest of files and in-memory documents, pruning
- `retrieval`: hybrid search (vector + full text, reciprocal rank fusion) with filters
- `news` / `model_cards`: news items and registry model cards as documents

Heavy libraries (sentence-transformers, pypdf, BeautifulSoup, PyYAML) load inside functions.
"""

from __future__ import annotations

from pathlib import Path

from knowledge.documents.chunking import ChunkingConfig
from knowledge.documents.ingestion import IngestEvent, Ingestor, IngestProgress
from knowledge.documents.models import (
    KINDS,
    Hit,
    IngestResult,
    Kind,
    NewsItem,
    ParsedDocument,
    SearchMode,
    TextEmbedder,
)
from knowledge.documents.retrieval import Retriever, SearchError, SearchFilters
from knowledge.documents.store import DocumentStore, EmbeddingSpace, StoreError

#: The corpus written for this project (Markdown with front matter), indexed at start-up.
CORPUS_DIR = Path(__file__).resolve().parents[1] / "corpus"

__all__ = [
    "CORPUS_DIR",
    "KINDS",
    "ChunkingConfig",
    "DocumentStore",
    "EmbeddingSpace",
    "Hit",
    "IngestEvent",
    "IngestProgress",
    "IngestResult",
    "Ingestor",
    "Kind",
    "NewsItem",
    "ParsedDocument",
    "Retriever",
    "SearchError",
    "SearchFilters",
    "SearchMode",
    "StoreError",
    "TextEmbedder",
]
