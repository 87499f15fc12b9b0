"""Reports and the offline answer: evidence kept, no invented score, every figure grounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.guards.grounding import check_grounding
from knowledge.news import NewsItem
from tools.sentiment.answer import describe_sentiment
from tools.sentiment.base import Score
from tools.sentiment.report import symbol_report, texts_report, trend_report

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def news(i: int, hours_ago: float, score: float, source: str = "coindesk.com") -> NewsItem:
    label = "bullish" if score > 0.3 else "bearish" if score < -0.3 else "neutral"
    return NewsItem(
        i,
        f"https://n.test/{i}",
        f"Headline {i}: BTC {label} $500M",
        "",
        source,
        NOW - timedelta(hours=hours_ago),
        False,
        ("BTC-USD",),
        label,
        score,
        0.8,
        "lexicon:vader-crypto-v1",
    )


def test_symbol_report_with_items() -> None:
    items = [news(1, 2, 0.7), news(2, 5, 0.6, "r/Bitcoin"), news(3, 30, -0.5), news(4, 40, 0.0)]
    report = symbol_report(
        "BTC-USD", "Bitcoin", items, start=NOW - timedelta(days=7), as_of=NOW, half_life_hours=48
    )
    assert report["overall"]["n"] == 4 and report["overall"]["label"] == "bullish"
    assert report["model"] == "lexicon:vader-crypto-v1"
    assert report["sources"] == [{"name": "coindesk.com", "n": 3}, {"name": "r/Bitcoin", "n": 1}]
    assert report["freshness"]["age_hours"] == 2.0
    assert report["headlines"][0]["text"].startswith("Headline 1")
    assert len(report["headlines"]) == 3 and report["message"] is None


def test_symbol_report_without_items_has_no_score() -> None:
    report = symbol_report(
        "SOL-USD",
        "Solana",
        [],
        start=NOW - timedelta(days=7),
        as_of=NOW,
        half_life_hours=48,
        latest_before=NOW - timedelta(days=20),
    )
    assert report["overall"] == {"label": None, "score": None, "confidence": None, "n": 0}
    assert report["model"] is None and report["items"] == []
    assert "No scored news items about SOL-USD" in report["message"]
    assert "2025-05-12" in report["message"]
    text = describe_sentiment(report)
    assert "no sentiment reading" in text and "score" not in text.replace("scored", "")


def test_the_answer_quotes_headlines_and_is_grounded() -> None:
    items = [
        news(i, i * 3, 0.6 if i % 3 else -0.4, "r/Bitcoin" if i % 2 else "decrypt.co")
        for i in range(1, 9)
    ]
    report = symbol_report(
        "BTC-USD", "Bitcoin", items, start=NOW - timedelta(days=7), as_of=NOW, half_life_hours=48
    )
    text = describe_sentiment(report)
    assert "Bitcoin (BTC-USD)" in text and "8 item(s)" in text
    assert text.count('- "Headline') == 3 and "r/Bitcoin" in text and "lexicon:" in text
    verdict = check_grounding(text, [report])
    assert verdict.grounded, verdict.unsupported


def test_texts_report_and_trend() -> None:
    report = texts_report(
        ["a", "b"], [Score("bullish", 0.8, 0.9), Score("neutral", 0.0, 0.5)], "lexicon"
    )
    assert report["model"] == "lexicon" and report["overall"]["n"] == 2
    assert report["items"][0] == {
        "text": "a",
        "label": "bullish",
        "score": 0.8,
        "confidence": 0.9,
        "source": "input",
        "published_at": None,
    }
    trend = trend_report(
        "BTC-USD", "Bitcoin", [news(1, 1, 0.5), news(2, 30, -0.5)], as_of=NOW, days=3
    )
    assert [d["n"] for d in trend["days"]] == [0, 1, 1] and trend["n"] == 2
    empty = trend_report("BTC-USD", "Bitcoin", [], as_of=NOW, days=3)
    assert empty["n"] == 0 and "No scored news items" in empty["message"]


def test_trend_figure() -> None:
    from tools.sentiment.figure import sentiment_trend_figure

    trend = trend_report("BTC-USD", "Bitcoin", [news(1, 1, 0.5)], as_of=NOW, days=5)
    figure = sentiment_trend_figure(trend)
    assert len(figure.data) == 2 and list(figure.data[1].y) == [0, 0, 0, 0, 1]
    assert "BTC-USD news sentiment" in figure.layout.title.text
