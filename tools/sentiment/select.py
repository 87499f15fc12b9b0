"""Choosing the sentiment backend.

`auto` prefers the transformers model when it is available locally, then the newest trained
embedding head, and otherwise the lexicon, which needs nothing and always works. A named
backend that cannot load is an error (the caller asked for it); in `auto` mode a backend that
fails to load is skipped and the reason kept in `Selection.notes`, so the answer can say why
it is scored by a fallback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tools.sentiment.base import Analyzer, AnalyzerUnavailableError
from tools.sentiment.embedding_head import EmbeddingHeadAnalyzer, TextEmbedder, latest_head
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
    """The chosen analyzer, and why others were passed over."""

    analyzer: Analyzer
    notes: list[str] = field(default_factory=list)


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
    if backend in ("auto", "embedding"):
        folder = latest_head(options.model_dir) if options.model_dir else None
        if folder is None:
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
                return Selection(EmbeddingHeadAnalyzer(folder, embedder()), notes)
            except AnalyzerUnavailableError as exc:
                if backend == "embedding":
                    raise
                notes.append(str(exc))
    for note in notes:
        log.info("sentiment backend skipped: %s", note)
    return Selection(LexiconAnalyzer(), notes)
