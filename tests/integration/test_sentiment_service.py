"""The sentiment service on real Postgres: refresh from a fake feed server (store, dedup, tag,
score once), point-in-time aggregation, the explicit "no items" answer, the trend, the tool."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.core import Services
from agent.offline.writers import describe_sentiment
from agent.services.sentiment import SentimentConfig, SentimentService, service_for
from agent.toolkit import NEWS_SENTIMENT, TABLE, bind
from knowledge.errors import UnknownSymbolError
from knowledge.news import NewsDraft, NewsStore
from tests.fakes.feed_server import FeedServer
from tests.unit.sentiment.samples import Story, reddit, rss

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC).replace(microsecond=0)
DAY1, DAY2, DAY3 = (NOW - timedelta(days=d) for d in (3, 2, 1))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FeedServer]:
    with FeedServer(tmp_path / "feeds") as running:
        (running.root / "a.xml").write_text(
            rss(
                [
                    Story(
                        "Bitcoin ETF approval sparks a bull run",
                        "https://n.test/etf?utm_source=a",
                        DAY1,
                    ),
                    Story("Exchange hacked, ETH drained from wallets", "https://n.test/hack", DAY2),
                    Story("SOL and $LINK rally to a new high", "https://n.test/sol", DAY3),
                ]
            )
        )
        (running.root / "b.xml").write_text(
            rss(
                [
                    Story("Bitcoin ETF approval sparks a bull run", "https://n.test/etf", DAY1),
                    Story("Ripple effect: markets wait for the Fed", "https://n.test/fed", DAY2),
                ]
            )
        )
        (running.root / "r" / "Bitcoin").mkdir(parents=True)
        (running.root / "r" / "Bitcoin" / "new.json").write_text(
            reddit(
                [
                    {
                        "id": "x1",
                        "title": "BTC to the moon, bullish!",
                        "created_utc": DAY3.timestamp(),
                    },
                ],
                "Bitcoin",
            )
        )
        (running.root / "broken.xml").write_text("<html>not a feed</html>")
        yield running


def make_service(
    services: Services, server: FeedServer, tmp_path: Path, **extra: object
) -> SentimentService:
    values: dict[str, Any] = {
        "backend": "lexicon",
        "model_dir": tmp_path / "models",
        "feeds": (server.url("/a.xml"), server.url("/b.xml"), server.url("/broken.xml")),
        "subreddits": ("Bitcoin",),
        "reddit_base_url": server.url(""),
        "timeout_seconds": 2.0,
        "host_delay_seconds": 0.0,
    }
    return SentimentService(NewsStore(services.db), SentimentConfig(**values | extra))


async def test_refresh_stores_dedups_tags_and_scores_once(
    services: Services, server: FeedServer, tmp_path: Path
) -> None:
    service = make_service(services, server, tmp_path)
    seen: list[tuple[str, int, int]] = []
    report = await service.refresh_news(
        lambda stage, done, total: seen.append((stage, done, total))
    )
    assert report["new_items"] == 5 and report["scored"] == 5  # the ETF story is stored once
    assert report["model"] == "lexicon:vader-crypto-v1"
    statuses = {f["name"]: f["status"] for f in report["feeds"]}
    assert statuses[f"127.0.0.1:{server.port}"] in ("ok", "error")
    assert [f["status"] for f in report["feeds"]] == ["ok", "ok", "error", "ok"]
    assert report["failed"] == 1 and "malformed feed" in report["feeds"][2]["error"]
    assert ("fetch", 4, 4) in seen and ("score", 5, 5) in seen

    store = service.store
    btc = store.items("BTC-USD", NOW - timedelta(days=10), NOW + timedelta(days=1))
    assert {i.title for i in btc} == {
        "Bitcoin ETF approval sparks a bull run",
        "BTC to the moon, bullish!",
    }
    assert {i.source for i in btc} == {f"127.0.0.1:{server.port}", "r/Bitcoin"}
    assert all(i.label == "bullish" and i.model == "lexicon:vader-crypto-v1" for i in btc)
    assert store.count("SOL-USD") == 1 and store.count("LINK-USD") == 1
    assert store.count("ETH-USD") == 1 and store.count("XRP-USD") == 0  # "Ripple effect"

    # a second refresh: conditional requests answer 304; nothing new, nothing rescored
    rescorer = make_service(services, server, tmp_path, backend="auto", model="no/such-model")
    again = await rescorer.refresh_news()
    assert again["new_items"] == 0 and again["scored"] == 0
    assert [f["status"] for f in again["feeds"]] == [
        "not_modified",
        "not_modified",
        "error",
        "not_modified",
    ]
    assert server.hits("/a.xml")[-1].status == 304
    feeds = {f.url: f for f in store.feeds()}
    assert feeds[server.url("/a.xml")].etag
    assert feeds[server.url("/broken.xml")].last_status == "error"
    # items_total counts the items a feed stored first. The ETF story is in a.xml and b.xml;
    # results are stored in the configured order, so a.xml, listed first, always has it
    totals = {url: f.items_total for url, f in feeds.items()}
    assert totals == _stored_per_feed(services)
    assert totals[server.url("/a.xml")] == 3 and totals[server.url("/b.xml")] == 1
    assert totals[server.url("/r/Bitcoin/new.json?limit=100")] == 1


class _SlowStore(NewsStore):
    """A store whose insert for feed `slow` takes half a second: a worker thread that starts
    late, as on a loaded machine (the cause of a flaky 2 instead of 3 before)."""

    def __init__(self, db: Any, slow: str) -> None:
        super().__init__(db)
        self.slow = slow

    def insert_new(
        self, drafts: Iterable[NewsDraft], fetched_at: datetime | None = None
    ) -> list[NewsDraft]:
        drafts = list(drafts)
        if drafts and drafts[0].feed_url == self.slow:
            time.sleep(0.5)
        return super().insert_new(drafts, fetched_at)


async def test_a_story_in_two_feeds_counts_for_the_feed_listed_first_however_slow(
    services: Services, server: FeedServer, tmp_path: Path
) -> None:
    """a.xml's store runs slowly; b.xml waits for it, so a.xml still has the shared ETF story
    and the story is stored (and scored) once."""
    service = make_service(services, server, tmp_path)
    service.store = _SlowStore(services.db, server.url("/a.xml"))
    report = await service.refresh_news()
    assert report["new_items"] == 5 and report["scored"] == 5
    totals = {f.url: f.items_total for f in service.store.feeds()}
    assert totals == _stored_per_feed(services)
    assert totals[server.url("/a.xml")] == 3 and totals[server.url("/b.xml")] == 1


async def test_a_mistyped_feed_url_is_an_error_row_and_the_other_feeds_are_stored(
    services: Services, server: FeedServer, tmp_path: Path
) -> None:
    feeds = ("http://[::1/rss", server.url("/a.xml"), server.url("/b.xml"))
    service = make_service(services, server, tmp_path, feeds=feeds, subreddits=())
    report = await asyncio.wait_for(service.refresh_news(), 30)
    assert [f["status"] for f in report["feeds"]] == ["error", "ok", "ok"]
    assert "invalid feed URL" in report["feeds"][0]["error"]
    assert report["new_items"] == 4


def _stored_per_feed(services: Services) -> dict[str, int]:
    """Feed URL -> how many stored items came from it (every fetched feed, 0 when none)."""
    with services.db.connection() as conn:
        rows = conn.execute(
            """SELECT f.url, count(i.id) FROM news_feeds f
               LEFT JOIN news_items i ON i.feed_url = f.url GROUP BY f.url"""
        ).fetchall()
    return {str(url): int(n) for url, n in rows}


async def test_aggregation_is_point_in_time_and_explicit_without_items(
    services: Services, server: FeedServer, tmp_path: Path
) -> None:
    service = make_service(services, server, tmp_path)
    await service.refresh_news()

    now = await service.symbol_sentiment("bitcoin")
    assert now["symbol"] == "BTC-USD" and now["overall"]["n"] == 2
    assert now["overall"]["label"] == "bullish" and now["model"] == "lexicon:vader-crypto-v1"
    assert {s["name"] for s in now["sources"]} == {f"127.0.0.1:{server.port}", "r/Bitcoin"}
    assert now["freshness"]["age_hours"] == pytest.approx(24, abs=0.2)
    assert len(now["headlines"]) == 2

    earlier = await service.symbol_sentiment("BTC", as_of=DAY2)
    assert earlier["overall"]["n"] == 1
    assert [i["text"] for i in earlier["items"]] == ["Bitcoin ETF approval sparks a bull run"]
    assert all(i["published_at"] < DAY2.isoformat() for i in earlier["items"])

    before_all = await service.symbol_sentiment("BTC", as_of=DAY1 - timedelta(hours=1))
    assert before_all["overall"] == {"label": None, "score": None, "confidence": None, "n": 0}
    assert "no sentiment reading" in before_all["message"]
    never = await service.symbol_sentiment("cardano")
    assert never["overall"]["score"] is None and "news refresh" in never["message"]
    assert "no sentiment reading" in describe_sentiment(never)

    window = await service.symbol_sentiment("BTC", window_days=1.5)
    assert window["overall"]["n"] == 1  # only the Reddit post is within 36 hours

    with pytest.raises(UnknownSymbolError):
        await service.symbol_sentiment("notacoin")


async def test_trend_tool_and_composition(
    services: Services, server: FeedServer, tmp_path: Path
) -> None:
    service = make_service(services, server, tmp_path)
    await service.refresh_news()
    trend = await service.trend("BTC-USD", days=5)
    assert len(trend["days"]) == 5 and trend["n"] == 2
    assert [d["n"] for d in trend["days"]][-4:] == [1, 0, 1, 0]  # 3 days ago, yesterday

    tool = bind(TABLE[NEWS_SENTIMENT], replace(services.engines(), sentiment=service))
    assert tool.name == "news_sentiment" and set(tool.args) == {"symbol", "window_days"}
    result = await tool.ainvoke({"symbol": "btc"})
    text = describe_sentiment(result)
    assert "Bitcoin (BTC-USD)" in text and "2 item(s)" in text and "r/Bitcoin" in text
    _, figure = await service.trend_figure("BTC-USD", days=5)
    assert len(figure.data) == 2


async def test_service_for_builds_once_from_services(services: Services) -> None:
    first = service_for(services)
    assert service_for(services) is first
    scored = await first.score_texts(["Bitcoin hits an all-time high"])
    assert scored["items"][0]["label"] == "bullish" and scored["model"]


async def test_new_news_items_are_indexed_in_the_knowledge_base(
    services: Services, server: FeedServer, tmp_path: Path
) -> None:
    service = make_service(services, server, tmp_path)
    indexed: list[str] = []

    def index(items: list[dict[str, Any]]) -> None:  # as the composition root wires it
        indexed.extend(item["title"] for item in items)
        services.knowledge.index_news(items)

    service.on_new_items = index
    report = await service.refresh_news()
    assert len(indexed) == report["new_items"] == 5  # the story in two feeds is indexed once
    found = services.knowledge.search("ETF approval bull run", k=3, kind="news")
    assert found["hits"][0]["title"] == "Bitcoin ETF approval sparks a bull run"
    assert found["hits"][0]["published_at"] is not None
