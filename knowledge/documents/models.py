"""Value types of the knowledge store: parsed documents, chunks, search hits, ingest outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

import numpy as np

Kind = Literal["guide", "coin", "news", "model_card"]
Origin = Literal["file", "corpus", "news", "model_card"]
KINDS: tuple[str, ...] = ("guide", "coin", "news", "model_card")
SearchMode = Literal["hybrid", "vector", "fulltext"]


class TextEmbedder(Protocol):
    """What the store needs from an embedding model (`knowledge.embeddings.Embedder` fits)."""

    model_name: str

    @property
    def dimension(self) -> int:
        """Vector size of the model."""
        ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dimension) float32 unit vectors."""
        ...


@dataclass(frozen=True)
class ParsedDocument:
    """A document read from a file or built in memory, before chunking."""

    source: str
    origin: Origin
    kind: Kind
    title: str
    body: str  # Markdown (or plain text) without front matter
    symbols: tuple[str, ...] = ()
    published_at: datetime | None = None
    content_hash: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChunkDraft:
    """One piece of a document, ready to embed: its section path and text."""

    ordinal: int
    section: str
    text: str


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with its document's title and source."""

    chunk_id: int
    doc_id: int
    title: str
    source: str
    section: str
    text: str
    score: float
    kind: str
    symbols: tuple[str, ...] = ()
    published_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the REST contract's fields plus kind, symbols and date)."""
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "source": public_source(self.source),
            "section": self.section,
            "score": round(self.score, 6),
            "text": self.text,
            "kind": self.kind,
            "symbols": list(self.symbols),
            "published_at": self.published_at.isoformat() if self.published_at else None,
        }


IngestStatus = Literal["added", "updated", "unchanged", "removed", "failed"]


@dataclass(frozen=True)
class IngestResult:
    """What happened to one document during an ingest run."""

    source: str
    status: IngestStatus
    chunks: int = 0
    title: str = ""
    kind: str = ""
    message: str = ""


@dataclass(frozen=True)
class NewsItem:
    """A news article to index as a `news` document (the news store hands these over)."""

    title: str
    text: str
    url: str
    published_at: datetime | None = None
    symbols: tuple[str, ...] = ()

    @classmethod
    def coerce(cls, item: NewsItem | dict[str, Any]) -> NewsItem:
        """Accept the dataclass or a mapping with the same keys."""
        if isinstance(item, NewsItem):
            return item
        published = item.get("published_at")
        if isinstance(published, str):
            published = datetime.fromisoformat(published.replace("Z", "+00:00"))
        return cls(
            title=str(item.get("title") or ""),
            text=str(item.get("text") or item.get("summary") or ""),
            url=str(item["url"]),
            published_at=published,
            symbols=tuple(item.get("symbols") or ()),
        )


def public_source(source: str) -> str:
    """A source as readers see it: an absolute path (stored before sources were relative)
    shows only its last folder and file name, never the server's layout."""
    if source.startswith("/") or (len(source) > 2 and source[1:3] in (":\\", ":/")):
        parts = source.replace("\\", "/").rstrip("/").split("/")
        return "files/" + "/".join(parts[-2:])
    return source
