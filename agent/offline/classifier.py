"""The intent classifier: a multi-label logistic head on the shared sentence embeddings.

Trained on the project's labelled utterance table (`agent.offline.intent_training`, never on the
routing benchmark's held-out turns) and shipped as plain JSON weights beside this module, it
scores how much a message asks for each engine. The planner uses it where its rules are silent
or disagree, and its confidence decides whether a configured language model is asked instead.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

HEAD_PATH = Path(__file__).with_name("data") / "intent_head.json"
# what a message can ask for; several at once ("price and news for ADA")
LABELS: tuple[str, ...] = (
    "price",
    "technical",
    "forecast",
    "sentiment",
    "accuracy",
    "explain",
    "advice",
    "compare",
    "not_yet",
    "none",
)


class TextEmbedder(Protocol):
    """What the classifier needs from `knowledge.embeddings.Embedder`."""

    model_name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class IntentScores:
    """Probabilities per label for one message, each in [0, 1] (one-vs-rest)."""

    probabilities: dict[str, float]

    @property
    def top(self) -> tuple[str, float]:
        """The most likely label and its probability."""
        label = max(self.probabilities, key=self.probabilities.__getitem__)
        return label, self.probabilities[label]

    def above(self, threshold: float) -> list[str]:
        """The labels at or above `threshold`, most likely first."""
        ranked = sorted(self.probabilities.items(), key=lambda item: -item[1])
        return [label for label, p in ranked if p >= threshold]


@dataclass(frozen=True)
class IntentHead:
    """Weights of the head: P(label) = sigmoid(x @ coef[label] + intercept[label])."""

    labels: tuple[str, ...]
    coef: np.ndarray
    intercept: np.ndarray
    metadata: dict[str, Any]

    def scores(self, vectors: np.ndarray) -> list[IntentScores]:
        """Scores for (n, dim) unit embeddings."""
        logits = vectors @ self.coef.T + self.intercept
        probs = 1.0 / (1.0 + np.exp(-logits))
        return [
            IntentScores({label: float(p) for label, p in zip(self.labels, row, strict=True)})
            for row in probs
        ]

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (no pickle: loading runs no code)."""
        return {
            "labels": list(self.labels),
            "coef": self.coef.round(6).tolist(),
            "intercept": self.intercept.round(6).tolist(),
            "metadata": self.metadata,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IntentHead:
        """The head written by `to_json`."""
        return cls(
            labels=tuple(data["labels"]),
            coef=np.asarray(data["coef"], dtype=np.float32),
            intercept=np.asarray(data["intercept"], dtype=np.float32),
            metadata=dict(data.get("metadata", {})),
        )


class IntentClassifier:
    """The head with its embedder; `score` returns None when either is unavailable, so the
    planner falls back to its rules alone instead of failing a turn."""

    def __init__(self, head: IntentHead, embedder: TextEmbedder):
        self.head = head
        self.embedder = embedder
        self._lock = threading.Lock()
        self._cache: dict[str, IntentScores] = {}

    def score(self, text: str) -> IntentScores | None:
        """The label probabilities of one message (cached per text)."""
        key = " ".join(text.lower().split())
        if key in self._cache:
            return self._cache[key]
        try:
            vectors = self.embedder.embed([key])
        except Exception as exc:  # a missing or broken model must not break a turn
            log.warning("intent classifier unavailable (%s); planning by rules only", exc)
            return None
        scores = self.head.scores(vectors)[0]
        with self._lock:
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = scores
        return scores


def load_head(path: Path = HEAD_PATH) -> IntentHead | None:
    """The shipped head, or None when it is missing or unreadable."""
    try:
        return IntentHead.from_json(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError) as exc:
        log.warning("no intent head at %s (%s); planning by rules only", path, exc)
        return None


@lru_cache(maxsize=1)
def default_classifier() -> IntentClassifier | None:
    """The process's classifier on the shared all-MiniLM-L6-v2 embedder (loaded on first use)."""
    head = load_head()
    if head is None:
        return None
    from knowledge.embeddings import shared_embedder

    embedder = shared_embedder()
    if head.metadata.get("embedder", embedder.model_name) != embedder.model_name:
        log.warning("intent head was trained on another embedder; planning by rules only")
        return None
    return IntentClassifier(head, embedder)
