"""The feed fetcher against a local HTTP server: RSS, Atom, Reddit, malformed, slow, 304, pacing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fakes.feed_server import FeedServer
from tests.unit.sentiment.samples import Story, atom, reddit, rss
from tools.sentiment.sources import FeedFetcher, FeedSpec, reddit_feed

pytestmark = pytest.mark.integration
WHEN = datetime(2025, 5, 30, 8, tzinfo=UTC)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FeedServer]:
    with FeedServer(tmp_path / "feeds") as running:
        root = running.root
        (root / "news.xml").write_text(rss([Story("Bitcoin rallies", "https://n.test/1", WHEN)]))
        (root / "news.atom").write_text(atom([Story("Solana slumps", "https://n.test/2", WHEN)]))
        (root / "broken.xml").write_text("<html><body>Service moved</body></html>")
        (root / "slow.xml").write_text(rss([Story("Late story", "https://n.test/3", WHEN)]))
        (root / "r" / "Bitcoin").mkdir(parents=True)
        (root / "r" / "Bitcoin" / "new.json").write_text(
            reddit([{"id": "p1", "title": "HODL", "created_utc": WHEN.timestamp()}], "Bitcoin")
        )
        running.configure("/slow.xml", delay=3.0)
        yield running


async def test_rss_atom_reddit_malformed_and_slow(server: FeedServer) -> None:
    fetcher = FeedFetcher(timeout=1.0, host_delay=0.0)
    feeds = [
        FeedSpec(server.url("/news.xml")),
        FeedSpec(server.url("/news.atom")),
        FeedSpec(server.url("/broken.xml")),
        FeedSpec(server.url("/slow.xml")),
        reddit_feed("Bitcoin", server.url("")),
        FeedSpec(server.url("/missing.xml")),
    ]
    started = time.monotonic()
    rss_r, atom_r, broken, slow, red, missing = await fetcher.fetch_all(feeds)
    assert time.monotonic() - started < 2.9  # the slow host did not hold the others up
    assert rss_r.status == "ok" and rss_r.entries[0].title == "Bitcoin rallies"
    assert rss_r.etag and rss_r.last_modified
    assert atom_r.status == "ok" and atom_r.entries[0].published_at == WHEN
    assert broken.status == "error" and "malformed feed" in (broken.error or "")
    assert slow.status == "error" and "timed out after 1s" in (slow.error or "")
    assert red.status == "ok" and red.entries[0].title == "HODL"
    assert red.feed.label == "r/Bitcoin"
    assert missing.status == "error" and missing.http_status == 404
    agents = {r.headers.get("User-Agent") for r in server.requests}
    assert agents == {fetcher.user_agent}


async def test_conditional_requests_get_304(server: FeedServer) -> None:
    fetcher = FeedFetcher(host_delay=0.0)
    url = server.url("/news.xml")
    (first,) = await fetcher.fetch_all([FeedSpec(url)])
    (again,) = await fetcher.fetch_all([FeedSpec(url)], {url: (first.etag, first.last_modified)})
    assert again.status == "not_modified" and again.entries == [] and again.etag == first.etag
    sent = server.hits("/news.xml")[-1].headers
    assert sent["If-None-Match"] == first.etag
    (server.root / "news.xml").write_text(rss([Story("New story", "https://n.test/9", WHEN)]))
    (changed,) = await fetcher.fetch_all([FeedSpec(url)], {url: (first.etag, None)})
    assert changed.status == "ok" and changed.entries[0].title == "New story"


async def test_same_host_is_paced_other_hosts_are_not(server: FeedServer) -> None:
    fetcher = FeedFetcher(host_delay=0.6)
    same = [FeedSpec(server.url("/news.xml")), FeedSpec(server.url("/news.atom"))]
    other = FeedSpec(server.url("/news.xml", host="localhost"))
    await fetcher.fetch_all([*same, other])
    first, second = server.hits("/news.xml")[0], server.hits("/news.atom")[0]
    local = [
        r for r in server.hits("/news.xml") if r.headers.get("Host", "").startswith("localhost")
    ]
    assert second.at - first.at >= 0.55
    assert abs(local[0].at - first.at) < 0.4  # another host is not made to wait
    started = time.monotonic()
    await fetcher.fetch_all([same[0]])  # pacing holds across refreshes of one fetcher
    assert time.monotonic() - started >= 0.3
