"""Training the intent head: labelled utterances -> one-vs-rest logistic weights (JSON).

The rows come from the project's own tables: the training split of the routing benchmark
(first turns only: a follow-up's meaning lies in its thread) and `data/intent_train_extra.jsonl`.
The regularisation is chosen by cross-validation on those rows alone, and the out-of-fold
scores are kept so the planner's thresholds can be tuned without touching held-out turns.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agent import toolkit as names
from agent.offline.classifier import LABELS, IntentHead, IntentScores, TextEmbedder

EXTRA_PATH = Path(__file__).with_name("data") / "intent_train_extra.jsonl"
C_GRID = (2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
FOLDS = 5
SEED = 17
# the benchmark's classes and tools, as the head's labels
_CLASS_LABELS = {"out_of_scope": "none", "no_tool_yet": "not_yet", "compare": "compare"}
_TOOL_LABELS = {
    names.GET_PRICE: "price",
    names.PRICE_HISTORY: "price",
    names.TECHNICAL_ANALYSIS: "technical",
    names.FORECAST_PRICE: "forecast",
    names.NEWS_SENTIMENT: "sentiment",
    names.FORECAST_ACCURACY: "accuracy",
    names.BACKTEST: "not_yet",  # the head's label for backtests until it learns its own
    names.SEARCH_KNOWLEDGE: "explain",
    names.EXPLAIN_INDICATOR: "explain",
}
ALL_ENGINES = {
    names.GET_PRICE,
    names.TECHNICAL_ANALYSIS,
    names.FORECAST_PRICE,
    names.NEWS_SENTIMENT,
}


@dataclass(frozen=True)
class Example:
    """One labelled message."""

    text: str
    labels: frozenset[str]


def benchmark_labels(row: dict[str, Any]) -> frozenset[str] | None:
    """The head's labels of a routing-benchmark row, or None when the row cannot teach it (a
    follow-up, or a coin the catalogue lacks, whose tools are empty for another reason)."""
    if row.get("turn", 1) != 1 or row["class"] in ("followup", "unknown_coin"):
        return None
    if row["class"] in _CLASS_LABELS:
        return frozenset({_CLASS_LABELS[row["class"]]})
    tools = set(row["tools"])
    if row["class"] == "advice" or tools >= ALL_ENGINES:
        return frozenset({"advice"})
    labels = frozenset(_TOOL_LABELS[t] for t in tools if t in _TOOL_LABELS)
    return labels or None


def training_examples(benchmark_rows: Iterable[dict[str, Any]], extra: Path) -> list[Example]:
    """The benchmark's training turns that can teach the head, then the extra table."""
    examples = []
    for row in benchmark_rows:
        labels = benchmark_labels(row) if row.get("split") == "train" else None
        if labels:
            examples.append(Example(row["text"], labels))
    if extra.exists():
        for line in extra.read_text().splitlines():
            if line.strip():
                item = json.loads(line)
                labels = frozenset(item["labels"]) & set(LABELS)
                if labels:
                    examples.append(Example(item["text"], labels))
    return examples


def fingerprint(examples: Sequence[Example]) -> str:
    """What the head was trained on, as a digest (a changed table means a stale head)."""
    digest = hashlib.sha256()
    for ex in examples:
        digest.update(f"{ex.text}\t{','.join(sorted(ex.labels))}\n".encode())
    return digest.hexdigest()


def _targets(examples: Sequence[Example]) -> np.ndarray:
    return np.array([[label in ex.labels for label in LABELS] for ex in examples], dtype=int)


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    coef = np.zeros((y.shape[1], x.shape[1]), dtype=np.float32)
    intercept = np.zeros(y.shape[1], dtype=np.float32)
    for j in range(y.shape[1]):
        if y[:, j].min() == y[:, j].max():  # a label absent from this fold: never predicted
            intercept[j] = -10.0 if y[0, j] == 0 else 10.0
            continue
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
        model.fit(x, y[:, j])
        coef[j], intercept[j] = model.coef_[0], model.intercept_[0]
    return coef, intercept


def _folds(n: int) -> np.ndarray:
    return np.random.default_rng(SEED).permutation(n) % FOLDS


def out_of_fold(x: np.ndarray, y: np.ndarray, c: float) -> np.ndarray:
    """(n, labels) probabilities, each row scored by a head that never saw it."""
    folds = _folds(len(x))
    probs = np.zeros(y.shape, dtype=np.float64)
    for k in range(FOLDS):
        train, test = folds != k, folds == k
        coef, intercept = _fit(x[train], y[train], c)
        probs[test] = 1.0 / (1.0 + np.exp(-(x[test] @ coef.T + intercept)))
    return probs


def _exact(y: np.ndarray, probs: np.ndarray) -> float:
    """Share of rows whose labels at 0.5 are exactly right (the top label when none is)."""
    predicted = probs >= 0.5
    empty = ~predicted.any(axis=1)
    predicted[empty, probs[empty].argmax(axis=1)] = True
    return float((predicted == y.astype(bool)).all(axis=1).mean())


def train_head(
    examples: Sequence[Example], embedder: TextEmbedder
) -> tuple[IntentHead, dict[str, IntentScores]]:
    """The head fitted on every example with the C that cross-validates best, and the
    out-of-fold scores of each training text (for tuning thresholds on training data only)."""
    x = embedder.embed([" ".join(ex.text.lower().split()) for ex in examples])
    y = _targets(examples)
    results = {c: out_of_fold(x, y, c) for c in C_GRID}
    accuracy = {c: _exact(y, probs) for c, probs in results.items()}
    best = max(C_GRID, key=lambda c: (accuracy[c], -c))
    coef, intercept = _fit(x, y, best)
    head = IntentHead(
        labels=LABELS,
        coef=coef,
        intercept=intercept,
        metadata={
            "embedder": embedder.model_name,
            "examples": len(examples),
            "fingerprint": fingerprint(examples),
            "C": best,
            "cv_exact_match": {str(c): round(a, 4) for c, a in accuracy.items()},
            "label_counts": {label: int(n) for label, n in zip(LABELS, y.sum(axis=0), strict=True)},
        },
    )
    oof = {
        " ".join(ex.text.lower().split()): IntentScores(
            {label: float(p) for label, p in zip(LABELS, row, strict=True)}
        )
        for ex, row in zip(examples, results[best], strict=True)
    }
    return head, oof
