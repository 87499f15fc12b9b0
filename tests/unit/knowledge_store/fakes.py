"""A deterministic stand-in for the sentence-embedding model: hashed bag of words.

Words shared by two texts make their vectors close, so search behaves sensibly, and a test can
pick any model name and dimension (to exercise a change of model) without loading weights.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np


class HashingEmbedder:
    """Unit vectors of `dimension` floats from hashed lower-case words; counts its calls."""

    def __init__(self, model_name: str = "test-hashing", dimension: int = 64) -> None:
        self.model_name = model_name
        self._dimension = dimension
        self.calls = 0
        self.texts_embedded = 0

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "little") % self._dimension] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else 1.0 / np.sqrt(self._dimension)
        return out
