"""Choosing the sentiment backend.

`auto` prefers the transformers model when it is available locally, then the newest trained
embedding head, and otherwise the lexicon, which needs nothing and always works. A named
backend that cannot load is an error (the caller asked for it); in `auto` mode a backend that
fails to load is skipped and the reason kept in `Selection.notes`, so the answer can say why
it is scored by a fallback.

When the embedding stage was reached (`Selection.watch_head`), a newer head saved later can
replace the analyzer without a restart: `newer_head` says whether there is one, `with_head`
builds the selection that uses it (see `agent.services.sentiment_models.AnalyzerHolder`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tools.sentiment.base import Analyzer, AnalyzerUnavailableError
from tools.sentiment.embedding_head import (
    EmbeddingHeadAnalyzer,
    HeadKey,
    TextEmbedder,
    head_key,
)
from tools.sentiment.lexicon import LexiconAnalyzer
from tools.sentiment.transformer import DEFAULT_MODEL, TransformersAnalyzer, locally_available

log = logging.getLogger(__name__)
Backend = Literal["auto", "transformers", "embedding", "lexicon"]


@dataclass(frozen=True)
class AnalyzerOptions:
    """Everything selection needs; defaults match the documented settings."""

    backend: Backend = "auto"
    transformer_model: str = DEFAULT_MODEL
    batch_size: int = 16
    max_length: int = 256
    label_map: Mapping[str, str] | None = None
    model_dir: Path | None = None


@dataclass
class Selection:
    """The chosen analyzer, and why others were passed over.

    `watch_head`: a newer embedding head would be preferred to `analyzer` (auto or embedding
    backend, no transformers model chosen); `head_key` is the newest head seen when choosing
    (loaded or not), `head_note` the note about it (dropped once a head loads).
    """

    analyzer: Analyzer
    notes: list[str] = field(default_factory=list)
    watch_head: bool = False
    head_key: HeadKey | None = None
    head_note: str | None = None


def select_analyzer(
    options: AnalyzerOptions, embedder: Callable[[], TextEmbedder] | None = None
) -> Selection:
    """The analyzer for `options` (see the module docstring for the order)."""
    notes: list[str] = []
    backend = options.backend
    if backend in ("auto", "transformers"):
        analyzer = TransformersAnalyzer(
            options.transformer_model,
            batch_size=options.batch_size,
            max_length=options.max_length,
            label_map=options.label_map,
        )
        if backend == "transformers" or locally_available(options.transformer_model):
            try:
                analyzer.load()
                return Selection(analyzer, notes)
            except AnalyzerUnavailableError as exc:
                if backend == "transformers":
                    raise
                notes.append(str(exc))
        else:
            notes.append(
                f"transformers model {options.transformer_model!r} is not available locally"
            )
    key: HeadKey | None = None
    watch = False
    if backend in ("auto", "embedding"):
        key = head_key(options.model_dir) if options.model_dir else None
        watch = options.model_dir is not None and embedder is not None
        if key is None:
            message = (
                "no trained embedding head (train one with `crypto-assistant sentiment train`)"
            )
            if backend == "embedding":
                raise AnalyzerUnavailableError(message)
            notes.append(message)
        elif embedder is None:
            notes.append("no embedder configured for the embedding head")
        else:
            try:
                head = EmbeddingHeadAnalyzer(key.folder, embedder())
                return Selection(head, notes, watch_head=True, head_key=key)
            except AnalyzerUnavailableError as exc:
                if backend == "embedding":
                    raise
                notes.append(str(exc))
    for note in notes:
        log.info("sentiment backend skipped: %s", note)
    head_note = notes[-1] if watch and notes else None
    return Selection(LexiconAnalyzer(), notes, watch, key, head_note)


def newer_head(selection: Selection, model_dir: Path | None) -> HeadKey | None:
    """The newest head's key when `selection` would prefer it and has not seen it, else None
    (cheap: a folder listing and two stats)."""
    if not selection.watch_head or model_dir is None:
        return None
    key = head_key(model_dir)
    return None if key is None or key == selection.head_key else key


def with_head(
    selection: Selection, key: HeadKey, embedder: Callable[[], TextEmbedder]
) -> Selection:
    """`selection` with the head at `key` as its analyzer (`AnalyzerUnavailableError` when the
    head cannot be loaded: the caller keeps `selection`)."""
    analyzer = EmbeddingHeadAnalyzer(key.folder, embedder())
    notes = [n for n in selection.notes if n != selection.head_note]
    return Selection(analyzer, notes, watch_head=True, head_key=key)
