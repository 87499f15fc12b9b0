"""POST /sentiment and GET /sentiment-trend on the real app: texts, symbols, limits, errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from agent.core import Services
from agent.settings import Settings
from api.main import create_app
from knowledge.news import NewsDraft, NewsStore

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC)


@pytest.fixture
def api(services: Services) -> Iterator[TestClient]:
    """The app exactly as `create_app` builds it: the sentiment routes must be wired in there."""
    with TestClient(create_app(services.settings, services)) as client:
        yield client


def test_create_app_serves_the_sentiment_routes(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    assert "/sentiment" in paths and "post" in paths["/sentiment"]
    assert "/sentiment-trend/{symbol}" in paths


def seed(services: Services) -> None:
    store = NewsStore(services.db)
    drafts = [
        NewsDraft(
            f"k{i}",
            f"https://n.test/{i}",
            None,
            title,
            "",
            title,
            "coindesk.com",
            "https://n.test/rss",
            NOW - timedelta(hours=h),
            ("BTC-USD",),
        )
        for i, (title, h) in enumerate(
            [
                ("Bitcoin rallies to a record high", 3),
                ("Bitcoin miners capitulate as price slumps", 30),
                ("Bitcoin ETF inflows surge", 50),
            ]
        )
    ]
    store.insert(drafts)
    rows = [(i, t) for i, t in store.unscored()]
    from tools.sentiment.lexicon import LexiconAnalyzer

    lexicon = LexiconAnalyzer()
    scores = lexicon.analyze([t for _, t in rows])
    store.save_scores(
        [(i, s.label, s.score, s.confidence) for (i, _), s in zip(rows, scores, strict=True)],
        lexicon.name,
    )
    assert store.save_scores([(rows[0][0], "bearish", -1.0, 1.0)], "other") == 0  # scored once


def test_texts_are_scored_and_the_model_named(api: TestClient) -> None:
    res = api.post(
        "/sentiment", json={"texts": ["BTC to the moon", "Exchange hacked, funds drained"]}
    )
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["model"] and body["symbol"] is None
    assert [i["label"] for i in body["items"]] == ["bullish", "bearish"]
    assert body["overall"]["n"] == 2 and body["items"][0]["source"] == "input"
    tagged = api.post("/sentiment", json={"texts": ["ok"], "symbol": "eth"}).json()
    assert tagged["symbol"] == "ETH-USD"


def test_symbol_sentiment_from_stored_news(api: TestClient, services: Services) -> None:
    seed(services)
    body = api.post("/sentiment", json={"symbol": "btc"}).json()
    assert body["symbol"] == "BTC-USD" and body["overall"]["n"] == 3
    assert body["model"] == "lexicon:vader-crypto-v1"
    assert {"text", "label", "score", "source", "published_at"} <= set(body["items"][0])
    assert body["items"][0]["text"] == "Bitcoin rallies to a record high"
    as_of = (NOW - timedelta(hours=10)).isoformat()
    earlier = api.post("/sentiment", json={"symbol": "btc", "as_of": as_of}).json()
    assert earlier["overall"]["n"] == 2
    trend = api.get("/sentiment-trend/BTC-USD", params={"days": 7})
    assert trend.status_code == 200 and len(trend.json()["days"]) == 7
    assert trend.json()["n"] == 3


def test_no_items_is_said_plainly(api: TestClient) -> None:
    body = api.post("/sentiment", json={"symbol": "solana"}).json()
    assert body["overall"] == {"label": None, "score": None, "confidence": None, "n": 0}
    assert body["model"] is None and body["items"] == []
    assert "no sentiment reading" in body["message"]


def test_limits_and_errors(api: TestClient) -> None:
    too_many = api.post("/sentiment", json={"texts": ["x"] * 101})
    assert too_many.status_code == 422
    assert too_many.json()["error"]["details"][0]["field"] == "body.texts"
    assert "at most 100 items" in too_many.json()["error"]["details"][0]["message"]
    too_long = api.post("/sentiment", json={"texts": ["ok", "x" * 5001]})
    assert too_long.status_code == 422
    detail = too_long.json()["error"]["details"][0]
    assert detail["field"] == "body.texts.1" and "at most 5000 characters" in detail["message"]
    assert api.post("/sentiment", json={"texts": ["x" * 5000] * 20}).status_code == 200
    over_total = api.post("/sentiment", json={"texts": ["x" * 5000] * 100})
    assert over_total.status_code == 422
    assert "SENTIMENT_MAX_REQUEST_CHARS" in over_total.json()["error"]["details"][0]["message"]
    tiny = api.post("/sentiment", json={"symbol": "btc", "window_days": 1e-300})
    assert tiny.status_code == 422  # a window shorter than a minute, said as such
    assert tiny.json()["error"]["details"][0]["field"] == "body.window_days"
    assert api.post("/sentiment", json={}).status_code == 422
    assert api.post("/sentiment", json={"texts": [""]}).status_code == 422
    assert api.post("/sentiment", json={"texts": []}).status_code == 422
    unknown = api.post("/sentiment", json={"symbol": "notacoin"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_symbol"
    assert api.get("/sentiment-trend/BTC-USD", params={"days": 0}).status_code == 422
    bad_window = api.post("/sentiment", json={"symbol": "btc", "since": "2030-01-01"})
    assert bad_window.status_code == 422 and "before" in bad_window.json()["error"]["message"]


def test_an_oversized_body_is_413(
    make_settings: Callable[..., Settings], services: Services
) -> None:
    services.settings = make_settings(max_body_bytes=10_000)
    with TestClient(create_app(services.settings, services)) as client:
        res = client.post("/sentiment", json={"texts": ["x" * 4000] * 5})
    assert res.status_code == 413
