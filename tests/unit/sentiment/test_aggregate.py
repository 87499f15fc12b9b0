"""Aggregation: recency weighting, confidence from volume and agreement, point in time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tools.sentiment.aggregate import ScoredItem, aggregate, daily_trend, recency_weight
from tools.sentiment.base import Score, from_probabilities, label_for

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def item(hours_ago: float, score: float, confidence: float = 0.8) -> ScoredItem:
    return ScoredItem(NOW - timedelta(hours=hours_ago), score, confidence, label_for(score, 0.3))


def test_no_items_means_no_reading() -> None:
    assert aggregate([], NOW) is None
    assert aggregate([item(-1, 0.9)], NOW) is None  # published after as_of: invisible


def test_recency_halves_weight_every_half_life() -> None:
    assert recency_weight(NOW - timedelta(hours=48), NOW, 48) == pytest.approx(0.5)
    assert recency_weight(NOW - timedelta(hours=96), NOW, 48) == pytest.approx(0.25)
    fresh_bull = aggregate([item(1, 0.8), item(100, -0.8)], NOW, half_life_hours=24)
    assert fresh_bull is not None and fresh_bull.label == "bullish" and fresh_bull.score > 0.5


def test_confidence_grows_with_count_and_agreement() -> None:
    one = aggregate([item(1, 0.6)], NOW)
    many = aggregate([item(h, 0.6) for h in range(1, 11)], NOW)
    split = aggregate([item(h, 0.6 if h % 2 else -0.6) for h in range(1, 11)], NOW)
    assert one is not None and many is not None and split is not None
    assert many.confidence > one.confidence
    assert split.confidence < many.confidence and split.agreement < many.agreement
    assert many.n == 10 and many.label_counts == {"bearish": 0, "neutral": 0, "bullish": 10}


def test_point_in_time_ignores_later_items() -> None:
    items = [item(30, -0.9), item(10, 0.9)]
    before = aggregate(items, NOW - timedelta(hours=20))
    assert before is not None and before.n == 1 and before.label == "bearish"


def test_daily_trend_has_every_day_and_none_for_empty_days() -> None:
    rows = daily_trend([item(1, 0.5), item(2, 0.7), item(50, -0.4)], NOW, days=4)
    assert [r["date"] for r in rows] == ["2025-05-29", "2025-05-30", "2025-05-31", "2025-06-01"]
    assert [r["n"] for r in rows] == [0, 1, 0, 2]
    assert rows[0]["score"] is None and rows[2]["label"] is None
    assert rows[3]["score"] == pytest.approx(0.6, abs=0.01)


def test_score_contract_and_probabilities() -> None:
    with pytest.raises(ValueError):
        Score("bullish", 1.5, 0.5)
    with pytest.raises(ValueError):
        Score("up", 0.5, 0.5)  # type: ignore[arg-type]
    score = from_probabilities({"bullish": 0.7, "neutral": 0.2, "bearish": 0.1})
    assert score.label == "bullish"
    assert score.score == pytest.approx(0.6) and score.confidence == pytest.approx(0.7)
