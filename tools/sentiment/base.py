"""The analyzer contract shared by every sentiment backend, and the engine's errors.

Every backend turns texts into `Score`s on one scale so the aggregation, the API and the agent
never care which model produced them: `label` is bearish, neutral or bullish, `score` runs from
-1 (bearish) to +1 (bullish), `confidence` from 0 to 1 says how sure the backend is of `label`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from tools.errors import ToolError

Label = Literal["bearish", "neutral", "bullish"]
LABELS: tuple[Label, ...] = ("bearish", "neutral", "bullish")

#: Label names used by public models, mapped onto the three-way scale.
LABEL_SYNONYMS: dict[str, Label] = {
    "bearish": "bearish",
    "negative": "bearish",
    "neg": "bearish",
    "bullish": "bullish",
    "positive": "bullish",
    "pos": "bullish",
    "neutral": "neutral",
    "neu": "neutral",
}


class SentimentError(ToolError):
    """Base class of the sentiment engine's errors."""


class AnalyzerUnavailableError(SentimentError):
    """A backend's model cannot be loaded (not available locally, corrupt, unknown labels)."""


class FeedError(SentimentError):
    """A news source could not be fetched or parsed; the message says which and why."""


@dataclass(frozen=True)
class Score:
    """One text's sentiment: a label, a signed score in [-1, 1] and a confidence in [0, 1]."""

    label: Label
    score: float
    confidence: float

    def __post_init__(self) -> None:
        if self.label not in LABELS:
            raise ValueError(f"label must be one of {LABELS}, not {self.label!r}")
        if not -1.0 <= self.score <= 1.0:
            raise ValueError(f"score must be in [-1, 1], not {self.score}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], not {self.confidence}")

    def as_dict(self) -> dict[str, float | str]:
        """JSON-ready form."""
        return {"label": self.label, "score": self.score, "confidence": self.confidence}


@runtime_checkable
class Analyzer(Protocol):
    """A sentiment backend: `name` names the model (it is stored with every score)."""

    name: str

    def analyze(self, texts: Sequence[str]) -> list[Score]:
        """One `Score` per text, in order."""
        ...


def normalise_label(raw: str) -> Label | None:
    """bearish/neutral/bullish for a model's own label name (`Bullish`, `positive`...)."""
    return LABEL_SYNONYMS.get(raw.strip().lower())


def label_for(score: float, threshold: float) -> Label:
    """The label of a signed score: beyond +-`threshold` it leans, otherwise neutral."""
    if score >= threshold:
        return "bullish"
    if score <= -threshold:
        return "bearish"
    return "neutral"


def clamp(value: float, low: float = -1.0, high: float = 1.0) -> float:
    """`value` limited to [low, high] (guards against float drift past the contract)."""
    return max(low, min(high, float(value)))


def from_probabilities(probabilities: dict[Label, float]) -> Score:
    """A Score from class probabilities: argmax label, score P(bull) - P(bear), confidence max P."""
    total = sum(probabilities.values()) or 1.0
    probs = {label: probabilities.get(label, 0.0) / total for label in LABELS}
    best = max(LABELS, key=lambda label: probs[label])
    return Score(
        label=best,
        score=clamp(probs["bullish"] - probs["bearish"]),
        confidence=clamp(probs[best], 0.0, 1.0),
    )
