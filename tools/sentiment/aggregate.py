"""Aggregation of scored news items: per symbol over a window, and a daily trend.

The overall score is a weighted mean of item scores. An item's weight halves every
`half_life_hours` of age (fresh news moves markets, last week's is priced in) and is scaled by
the analyzer's confidence in it. The aggregate's confidence grows with the effective number of
items (Kish's n_eff of the weights, so ten stale items count less than ten fresh ones) and with
their agreement (one minus the weighted standard deviation of the scores). Only items published
strictly before `as_of` are used: the same call later gives the same answer. With no items there
is no score: `None` is returned, never a neutral stand-in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from tools.sentiment.base import LABELS, Label, clamp, label_for

#: |score| at which an aggregate (rather than one text) counts as leaning one way.
AGGREGATE_THRESHOLD = 0.15
#: n_eff at which the volume factor reaches 1 - 1/e (about 63%).
VOLUME_SCALE = 5.0
MIN_ITEM_CONFIDENCE = 0.05


@dataclass(frozen=True)
class ScoredItem:
    """What aggregation needs of a stored, scored item."""

    published_at: datetime
    score: float
    confidence: float
    label: Label


@dataclass(frozen=True)
class Aggregate:
    """The overall reading of a set of items."""

    label: Label
    score: float
    confidence: float
    n: int
    effective_n: float
    agreement: float
    label_counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready, figures rounded for display (3 decimals)."""
        return {
            "label": self.label,
            "score": round(self.score, 3),
            "confidence": round(self.confidence, 3),
            "n": self.n,
            "effective_n": round(self.effective_n, 2),
            "agreement": round(self.agreement, 3),
            "label_counts": self.label_counts,
        }


def recency_weight(published_at: datetime, as_of: datetime, half_life_hours: float) -> float:
    """0.5 ** (age / half-life); an item from the future (never passed in) would weigh 1."""
    age_hours = max(0.0, (as_of - published_at).total_seconds() / 3600.0)
    return float(0.5 ** (age_hours / half_life_hours))


def aggregate(
    items: Sequence[ScoredItem], as_of: datetime, *, half_life_hours: float | None = 48.0
) -> Aggregate | None:
    """The weighted reading of the items published before `as_of`; None when there are none.

    `half_life_hours=None` weighs items by confidence only (e.g. all of one day's items).
    """
    usable = [item for item in items if item.published_at < as_of]
    recency = [
        recency_weight(i.published_at, as_of, half_life_hours) if half_life_hours else 1.0
        for i in usable
    ]
    return combine([(i.score, i.confidence, i.label) for i in usable], recency)


def combine(
    scores: Sequence[tuple[float, float, str]], recency: Sequence[float]
) -> Aggregate | None:
    """Aggregate (score, confidence, label) triples with their recency weights (None if empty).

    Used directly for texts scored on request, which carry no dates (all recency weights 1).
    """
    if not scores:
        return None
    weights = [
        r * max(MIN_ITEM_CONFIDENCE, c) for r, (_, c, _) in zip(recency, scores, strict=True)
    ]
    total = sum(weights)
    mean = sum(w * s for w, (s, _, _) in zip(weights, scores, strict=True)) / total
    variance = (
        sum(w * (s - mean) ** 2 for w, (s, _, _) in zip(weights, scores, strict=True)) / total
    )
    effective_n = total**2 / sum(w * w for w in weights)
    agreement = clamp(1.0 - math.sqrt(variance), 0.0, 1.0)
    volume = 1.0 - math.exp(-effective_n / VOLUME_SCALE)
    counts: dict[str, int] = {label: sum(lab == label for _, _, lab in scores) for label in LABELS}
    return Aggregate(
        label=label_for(mean, AGGREGATE_THRESHOLD),
        score=clamp(mean),
        confidence=clamp(volume * agreement, 0.0, 1.0),
        n=len(scores),
        effective_n=effective_n,
        agreement=agreement,
        label_counts=counts,
    )


def daily_trend(items: Sequence[ScoredItem], as_of: datetime, days: int) -> list[dict[str, object]]:
    """One row per UTC day of the `days` days ending at `as_of`: the confidence-weighted mean
    score of that day's items and their count; a day without items has `score` None."""
    end_day = (as_of - timedelta(microseconds=1)).astimezone(UTC).date()
    first = end_day - timedelta(days=days - 1)
    by_day: dict[date, list[ScoredItem]] = {}
    for item in items:
        day = item.published_at.astimezone(UTC).date()
        if item.published_at < as_of and first <= day <= end_day:
            by_day.setdefault(day, []).append(item)
    rows: list[dict[str, object]] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        found = by_day.get(day, [])
        reading = aggregate(found, as_of, half_life_hours=None) if found else None
        rows.append(
            {
                "date": day.isoformat(),
                "n": len(found),
                "score": round(reading.score, 3) if reading else None,
                "label": reading.label if reading else None,
                "confidence": round(reading.confidence, 3) if reading else None,
            }
        )
    return rows
