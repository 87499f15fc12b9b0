"""Labelled sentiment data: CSV loading with label mapping, a seeded stratified split, metrics.

A labelled file has `text,label` columns; labels are bearish/neutral/bullish (any case, or the
positive/negative synonyms) or the numeric codes of the twitter-financial-news-sentiment
dataset (0 bearish, 1 bullish, 2 neutral). Bad rows are reported by line, never skipped.
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.errors import DataValidationError
from tools.sentiment.base import LABELS, Label, normalise_label

#: Numeric codes as published with twitter-financial-news-sentiment (its dataset card).
NUMERIC_LABELS: dict[str, Label] = {"0": "bearish", "1": "bullish", "2": "neutral"}


@dataclass(frozen=True)
class Labelled:
    """Texts with their gold labels, in file order."""

    texts: list[str]
    labels: list[Label]

    def counts(self) -> dict[str, int]:
        """How many rows carry each label."""
        found = Counter(self.labels)
        return {label: found.get(label, 0) for label in LABELS}

    def subset(self, indices: Sequence[int]) -> Labelled:
        """The rows at `indices`, in that order."""
        return Labelled([self.texts[i] for i in indices], [self.labels[i] for i in indices])


def load_labelled_csv(path: Path) -> Labelled:
    """Read `text,label` rows; any row with an empty text or unknown label rejects the file."""
    texts: list[str] = []
    labels: list[Label] = []
    problems: list[tuple[int, str]] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"text", "label"} <= set(reader.fieldnames):
            raise DataValidationError(str(path), [(1, "the header must have text and label")])
        for line, row in enumerate(reader, start=2):
            text, raw = (row.get("text") or "").strip(), (row.get("label") or "").strip()
            label = NUMERIC_LABELS.get(raw) or normalise_label(raw)
            if not text:
                problems.append((line, "empty text"))
            elif label is None:
                problems.append((line, f"unknown label {raw!r} (use bearish, neutral, bullish)"))
            else:
                texts.append(text)
                labels.append(label)
    if problems:
        raise DataValidationError(str(path), problems)
    if len(set(labels)) < 2:
        raise DataValidationError(str(path), [(1, "needs at least two distinct labels")])
    return Labelled(texts, labels)


def stratified_split(
    labels: Sequence[str], test_size: float = 0.2, seed: int = 42
) -> tuple[list[int], list[int]]:
    """Train and test row indices, each label split in the same proportion (seeded, stable)."""
    if not 0.0 < test_size < 1.0:
        raise ValueError("test_size must be between 0 and 1")
    rng = random.Random(seed)
    train: list[int] = []
    test: list[int] = []
    for label in sorted(set(labels)):
        rows = [i for i, value in enumerate(labels) if value == label]
        rng.shuffle(rows)
        cut = max(1, round(len(rows) * test_size)) if len(rows) > 1 else 0
        test += rows[:cut]
        train += rows[cut:]
    return sorted(train), sorted(test)


def classification_report(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, object]:
    """Accuracy, macro-F1, per-label precision/recall/F1/support and the confusion matrix."""
    if len(gold) != len(predicted) or not gold:
        raise ValueError("gold and predicted must be non-empty and of equal length")
    per_label: dict[str, dict[str, float]] = {}
    for label in LABELS:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": float(tp + fn),
        }
    present = [label for label in LABELS if per_label[label]["support"] > 0]
    confusion: dict[str, dict[str, int]] = {g: dict.fromkeys(LABELS, 0) for g in LABELS}
    for g, p in zip(gold, predicted, strict=True):
        confusion[g][p] += 1
    return {
        "n": len(gold),
        "accuracy": sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold),
        "macro_f1": sum(per_label[label]["f1"] for label in present) / len(present),
        "per_label": per_label,
        "confusion": confusion,
    }
