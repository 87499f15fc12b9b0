"""Ingestion: files or in-memory documents -> chunks -> vectors -> the store, idempotently.

A document is recognised by its source (`files/<root>/<relative path>` for a file ingested
under a folder or file named on the command line, `corpus/<relative path>` for the shipped
corpus; never an absolute path, which would show the server's layout to every reader), a news URL, `model-registry:<SYMBOL>` for a model card) and its content
hash (bytes plus the chunking settings): an unchanged document is skipped without embedding,
a changed one has all its chunks replaced in one transaction. Pruning removes documents whose
files are gone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.documents.chunking import ChunkingConfig, chunk_markdown
from knowledge.documents.models import IngestResult, Kind, Origin, ParsedDocument, TextEmbedder
from knowledge.documents.parsing import files_in, parse_file
from knowledge.documents.store import DocumentStore, embedding_input
from knowledge.errors import DataValidationError, KnowledgeError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestEvent:
    """Progress of an ingest run: `done` of `total` documents, the latest one's result."""

    done: int
    total: int
    result: IngestResult | None = None
    current: str = ""


IngestProgress = Callable[[IngestEvent], None]


class Ingestor:
    """Chunks, embeds and stores documents; keeps the embedding space in step with the model."""

    def __init__(
        self,
        store: DocumentStore,
        embedder: TextEmbedder,
        config: ChunkingConfig | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.config = config or ChunkingConfig()

    def write(self, doc: ParsedDocument, known_hash: str | None) -> IngestResult:
        """Store one parsed document unless its hash is already stored."""
        if known_hash == doc.content_hash:
            return IngestResult(doc.source, "unchanged", title=doc.title, kind=doc.kind)
        drafts = chunk_markdown(doc.body, doc.title, self.config)
        if not drafts:
            return IngestResult(doc.source, "failed", title=doc.title, kind=doc.kind,
                                message="no text found")  # fmt: skip
        vectors = self.embedder.embed(
            [embedding_input(doc.title, d.section, d.text) for d in drafts]
        )
        _, new = self.store.replace_document(doc, drafts, vectors, self.embedder.model_name)
        return IngestResult(
            doc.source, "added" if new else "updated", len(drafts), doc.title, doc.kind
        )

    def ingest_documents(
        self, docs: Sequence[ParsedDocument], progress: IngestProgress | None = None
    ) -> list[IngestResult]:
        """Store in-memory documents (news, model cards), skipping unchanged ones."""
        self.store.ensure_embedding_space(self.embedder)
        known = self.store.hashes()
        results = []
        for index, doc in enumerate(docs):
            if progress:
                progress(IngestEvent(index, len(docs), current=doc.source))
            result = self.write(doc, known.get(doc.source))
            results.append(result)
            if progress:
                progress(IngestEvent(index + 1, len(docs), result, doc.source))
        return results

    def ingest_paths(
        self,
        paths: Sequence[Path],
        *,
        origin: Origin = "file",
        base: Path | None = None,
        default_kind: Kind = "guide",
        prune: bool = False,
        progress: IngestProgress | None = None,
    ) -> list[IngestResult]:
        """Ingest files (folders are searched recursively for md, txt, html and pdf).

        With `base`, sources are `corpus/<path relative to base>` (stable across machines);
        otherwise `files/<root name>/<path below the root>`, the root being each named folder
        (a named file's own folder). A file that cannot be read is reported as failed and the
        run goes on. With `prune`, documents of this origin whose files are gone are removed.
        """
        roots = [] if base is not None else [_root_of(path) for path in paths]
        files = files_in(list(paths))
        self.store.ensure_embedding_space(self.embedder)
        known = self.store.hashes(origin)
        results: list[IngestResult] = []
        for index, path in enumerate(files):
            source = self.source_for(path, base, roots)
            if progress:
                progress(IngestEvent(index, len(files), current=path.name))
            try:
                doc = parse_file(path, source=source, origin=origin, default_kind=default_kind,
                                 salt=self.config.signature)  # fmt: skip
                result = self.write(doc, known.get(source))
            except (DataValidationError, OSError, UnicodeError) as exc:
                result = IngestResult(source, "failed", message=str(exc))
            except KnowledgeError as exc:
                log.warning("ingest of %s failed: %s", path, exc)
                result = IngestResult(source, "failed", message=str(exc))
            results.append(result)
            if progress:
                progress(IngestEvent(index + 1, len(files), result, path.name))
        if prune:
            results += self.prune(origin, base, roots)
        if any(r.status in ("added", "updated", "removed") for r in results):
            self.store.analyze()
        return results

    @staticmethod
    def source_for(path: Path, base: Path | None, roots: Sequence[Path] = ()) -> str:
        """The stored source of a file: relative to the corpus `base`, else to the innermost
        ingested root holding it (`files/<root name>/<path below it>`)."""
        resolved = path.resolve()
        if base is not None:
            return "corpus/" + resolved.relative_to(base.resolve()).as_posix()
        holders = [root for root in roots if resolved.is_relative_to(root)]
        root = max(holders, key=lambda r: len(r.parts)) if holders else resolved.parent
        return f"{FILES_PREFIX}{root.name or 'root'}/{resolved.relative_to(root).as_posix()}"

    def prune(
        self, origin: Origin, base: Path | None = None, roots: Sequence[Path] = ()
    ) -> list[IngestResult]:
        """Remove documents of `origin` whose files are gone: below `base` for the corpus, below
        the ingested `roots` otherwise (other roots' documents are not this run's to judge)."""
        present: dict[str, Path] = {}
        if base is not None:
            present = {"corpus/": base}
        else:
            for root in roots:
                present[f"{FILES_PREFIX}{root.name or 'root'}/"] = root
        gone = []
        for source in self.store.hashes(origin):
            for prefix, root in present.items():
                if source.startswith(prefix) and not (root / source[len(prefix) :]).is_file():
                    gone.append(source)
                    break
        self.store.delete_sources(gone)
        return [IngestResult(source, "removed") for source in gone]


FILES_PREFIX = "files/"


def _root_of(path: Path) -> Path:
    """The root a named path's files are stored relative to: a folder itself, a file's folder."""
    resolved = path.resolve()
    return resolved if resolved.is_dir() else resolved.parent
