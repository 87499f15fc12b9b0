"""The sentiment service's analyzer: chosen once, replaced by a newer embedding head without a
restart, described for `sentiment status`; and training the head.

`AnalyzerHolder.current()` is called before every scoring batch. The first call chooses the
analyzer (`select_analyzer`). Later calls check, at most once every `reload_seconds`, whether a
newer head was saved (`crypto-assistant sentiment train` in another process): a folder listing
and two stats. The one caller that notices loads it while the others keep scoring with the old
analyzer (the reload lock is only ever tried, never waited on), then the selection reference is
swapped in one assignment. Each batch takes the analyzer once and records that analyzer's name
with its scores, so items already scored keep their model name and new ones name the new head.
A head that cannot be loaded leaves the old analyzer in use; why is logged once and shown by
`status()`. Heads are written atomically (`TrainedHead.save`), so a half-written one is never
seen.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from knowledge.embeddings import Embedder
from tools.sentiment import Selection, select_analyzer
from tools.sentiment.embedding_head import EmbeddingHeadAnalyzer, HeadKey, TextEmbedder
from tools.sentiment.select import AnalyzerOptions, newer_head, with_head

log = logging.getLogger(__name__)
#: How often (at most) a running service looks for a newer embedding head.
HEAD_RELOAD_SECONDS = 10.0


class AnalyzerHolder:
    """The process's current analyzer selection, swapped for a newer head when one appears."""

    def __init__(
        self,
        options: Callable[[], AnalyzerOptions],
        embedder: Callable[[], TextEmbedder],
        reload_seconds: float = HEAD_RELOAD_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._options_factory = options
        self._embedder = embedder
        self.reload_seconds = reload_seconds
        self._clock = clock
        self._selection: Selection | None = None
        self._options: AnalyzerOptions | None = None
        self._select_lock = threading.Lock()  # the first choice (callers wait for it)
        self._reload_lock = threading.Lock()  # one reload at a time (callers never wait)
        self._next_check = 0.0
        self._failed: HeadKey | None = None
        self.reload_error: str | None = None
        self.selected_at: datetime | None = None

    @property
    def chosen(self) -> Selection | None:
        """The selection in use, or None before the first `current()`."""
        return self._selection

    def current(self) -> Selection:
        """The selection to score with now (`AnalyzerUnavailableError` when none can load)."""
        selection = self._selection
        if selection is None:
            with self._select_lock:
                if self._selection is None:
                    options = self._options_factory()
                    self._selection = select_analyzer(options, self._embedder)
                    self._options = options
                    self.selected_at = datetime.now(UTC)
                    self._next_check = self._clock() + self.reload_seconds
                    log.info("sentiment analyzer: %s", self._selection.analyzer.name)
                return self._selection
        self._maybe_reload(selection)
        return self._selection or selection

    def _maybe_reload(self, selection: Selection) -> None:
        if not selection.watch_head or self._clock() < self._next_check:
            return
        if not self._reload_lock.acquire(blocking=False):
            return  # another caller is checking or loading; keep scoring with `selection`
        try:
            now = self._clock()
            if now < self._next_check:
                return
            self._next_check = now + self.reload_seconds
            current = self._selection or selection
            model_dir = self._options.model_dir if self._options else None
            key = newer_head(current, model_dir)
            if key is None or key == self._failed:
                return
            try:
                fresh = with_head(current, key, self._embedder)
            except Exception as exc:  # any failure keeps the analyzer that works
                self._failed = key
                self.reload_error = f"{key.folder}: {exc}"
                log.warning(
                    "newer sentiment head in %s not loaded, still using %s: %s",
                    key.folder,
                    current.analyzer.name,
                    exc,
                )
                return
            self._selection = fresh  # one reference assignment: callers see old or new
            self._failed, self.reload_error = None, None
            self.selected_at = datetime.now(UTC)
            log.info(
                "sentiment analyzer reloaded: %s -> %s", current.analyzer.name, fresh.analyzer.name
            )
        finally:
            self._reload_lock.release()

    def status(self) -> dict[str, Any]:
        """Which analyzer is in use (its head's version and trained time when it is one), the
        notes on the others, and the reload check (`{"analyzer": None}` before the first use)."""
        selection = self._selection
        reload = {"every_seconds": self.reload_seconds, "last_error": self.reload_error}
        if selection is None:
            return {"analyzer": None, "head": None, "notes": [], "reload": reload}
        analyzer = selection.analyzer
        head = describe_head(analyzer) if isinstance(analyzer, EmbeddingHeadAnalyzer) else None
        return {
            "analyzer": analyzer.name,
            "head": head,
            "notes": list(selection.notes),
            "since": self.selected_at.isoformat(timespec="seconds") if self.selected_at else None,
            "reload": reload | {"watching": selection.watch_head},
        }


def describe_head(head: EmbeddingHeadAnalyzer) -> dict[str, Any]:
    """What `sentiment status` shows of a head: version, trained time, where, how good."""
    meta = head.metadata
    evaluation = meta.get("evaluation")
    return {
        "version": meta.get("version"),
        "trained_at": meta.get("trained_at"),
        "path": str(head.folder),
        "embedder": meta.get("embedder"),
        "macro_f1": evaluation.get("macro_f1") if isinstance(evaluation, dict) else None,
    }


def train_embedding_head(
    csv_path: Path,
    model_dir: Path,
    *,
    test_size: float = 0.2,
    seed: int = 42,
    embedder: Embedder | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train the embedding head on a labelled CSV, save it as the next version under
    `model_dir`, and return its metadata (with the held-out evaluation) and folder."""
    from tools.sentiment.embedding_head import train_from_csv

    return train_from_csv(
        csv_path,
        model_dir,
        embedder or Embedder(),
        test_size=test_size,
        seed=seed,
        on_stage=on_stage,
    )
