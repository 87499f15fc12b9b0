"""JSON-ready sentiment answers built from scored items: one shape for API, agent and UI.

`symbol_report` aggregates a symbol's stored items and keeps what an answer needs to be
checkable: the item count, label counts, sources, freshness, the models that scored them and the
few headlines that weighed most. With no items it says so, with no score (`None`), never a
neutral stand-in. `texts_report` does the same for texts scored directly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from knowledge.news import NewsItem
from tools.sentiment.aggregate import (
    Aggregate,
    ScoredItem,
    aggregate,
    combine,
    daily_trend,
    recency_weight,
)
from tools.sentiment.base import Score

HEADLINES = 3
NO_SCORE = {"label": None, "score": None, "confidence": None, "n": 0}


def _scored(item: NewsItem) -> ScoredItem:
    return ScoredItem(item.published_at, item.score or 0.0, item.confidence or 0.0, item.label)  # type: ignore[arg-type]


def _item_json(item: NewsItem) -> dict[str, Any]:
    return {
        "text": item.title,
        "label": item.label,
        "score": round(item.score or 0.0, 3),
        "confidence": round(item.confidence or 0.0, 3),
        "source": item.source,
        "url": item.url,
        "published_at": item.published_at.isoformat(),
        "published_estimated": item.published_estimated,
        "model": item.model,
    }


def _overall(reading: Aggregate | None) -> dict[str, Any]:
    return reading.as_dict() if reading else dict(NO_SCORE)


def symbol_report(
    symbol: str,
    name: str,
    items: Sequence[NewsItem],
    *,
    start: datetime,
    as_of: datetime,
    half_life_hours: float,
    latest_before: datetime | None = None,
    max_items: int = 20,
) -> dict[str, Any]:
    """The sentiment answer for one symbol over [start, as_of)."""
    usable = [i for i in items if i.score is not None and start <= i.published_at < as_of]
    reading = aggregate([_scored(i) for i in usable], as_of, half_life_hours=half_life_hours)
    models = Counter(i.model for i in usable if i.model)
    sources = Counter(i.source for i in usable)
    window = {
        "start": start.isoformat(),
        "end": as_of.isoformat(),
        "days": round((as_of - start).total_seconds() / 86400, 2),
    }
    report: dict[str, Any] = {
        "symbol": symbol,
        "name": name,
        "as_of": as_of.isoformat(),
        "window": window,
        "model": models.most_common(1)[0][0] if models else None,
        "models": dict(models),
        "half_life_hours": half_life_hours,
        "overall": _overall(reading),
        "sources": [{"name": s, "n": n} for s, n in sources.most_common()],
        "items": [_item_json(i) for i in usable[:max_items]],
    }
    if usable:
        newest = max(i.published_at for i in usable)
        report["freshness"] = {
            "latest_published_at": newest.isoformat(),
            "age_hours": round((as_of - newest).total_seconds() / 3600, 1),
        }
        weight = {
            i.id: recency_weight(i.published_at, as_of, half_life_hours)
            * (i.confidence or 0.0)
            * abs(i.score or 0.0)
            for i in usable
        }
        ranked = sorted(usable, key=lambda i: weight[i.id], reverse=True)
        seen: set[str] = set()
        report["headlines"] = []
        for item in ranked:
            if item.title.lower() not in seen and len(report["headlines"]) < HEADLINES:
                seen.add(item.title.lower())
                report["headlines"].append(_item_json(item))
        report["message"] = None
    else:
        report["freshness"] = {
            "latest_published_at": latest_before.isoformat() if latest_before else None,
            "age_hours": None,
        }
        report["headlines"] = []
        report["message"] = (
            f"No scored news items about {symbol} were published between {start:%Y-%m-%d %H:%M} "
            f"and {as_of:%Y-%m-%d %H:%M} UTC, so there is no sentiment reading."
            + (
                f" The newest stored item is from {latest_before:%Y-%m-%d %H:%M} UTC."
                if latest_before
                else " No item about it is stored at all: run `crypto-assistant news refresh`."
            )
        )
    return report


def texts_report(texts: Sequence[str], scores: Sequence[Score], model: str) -> dict[str, Any]:
    """The answer for texts scored directly: each text's score and their confidence-weighted
    mean (no recency weighting: the texts carry no dates)."""
    reading = combine([(s.score, s.confidence, s.label) for s in scores], [1.0] * len(scores))
    return {
        "symbol": None,
        "model": model,
        "overall": _overall(reading),
        "items": [
            {
                "text": t,
                "label": s.label,
                "score": round(s.score, 3),
                "confidence": round(s.confidence, 3),
                "source": "input",
                "published_at": None,
            }
            for t, s in zip(texts, scores, strict=True)
        ],
    }


def trend_report(
    symbol: str, name: str, items: Sequence[NewsItem], *, as_of: datetime, days: int
) -> dict[str, Any]:
    """Daily series over the `days` UTC days ending at `as_of`."""
    usable = [i for i in items if i.score is not None and i.published_at < as_of]
    rows = daily_trend([_scored(i) for i in usable], as_of, days)
    models = Counter(i.model for i in usable if i.model)
    total = sum(int(r["n"]) for r in rows)  # type: ignore[call-overload]
    return {
        "symbol": symbol,
        "name": name,
        "as_of": as_of.isoformat(),
        "model": models.most_common(1)[0][0] if models else None,
        "models": dict(models),
        "n": total,
        "days": rows,
        "message": None if total else f"No scored news items about {symbol} in these {days} days.",
    }
