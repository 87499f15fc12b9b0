"""Feed parsing (RSS, Atom, Reddit, malformed) and the dedup key."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.unit.sentiment.samples import Story, atom, reddit, rss
from tools.sentiment.base import FeedError
from tools.sentiment.parsing import canonical_url, clean_text, entry_key, parse_feed, parse_reddit

WHEN = datetime(2025, 5, 30, 8, 15, tzinfo=UTC)


def test_rss_entries_with_dates_and_plain_text() -> None:
    doc = rss(
        [
            Story(
                "Bitcoin &amp; ETH rally",
                "https://news.test/a?utm_source=x",
                WHEN,
                "<p>Prices <b>rise</b>.</p> The post X appeared first on News.",
            ),
            Story("Undated story", "https://news.test/b"),
        ]
    )
    first, second = parse_feed(doc.encode(), "http://feed")
    assert first.title == "Bitcoin & ETH rally" and first.summary == "Prices rise ."
    assert first.published_at == WHEN and second.published_at is None
    assert first.key == entry_key("https://news.test/a", None)  # tracking parameter dropped
    assert first.text == "Bitcoin & ETH rally. Prices rise ."


def test_atom_entries() -> None:
    (entry,) = parse_feed(atom([Story("Solana upgrade", "https://n.test/s", WHEN)]).encode(), "u")
    assert entry.title == "Solana upgrade" and entry.published_at == WHEN
    assert entry.url == "https://n.test/s"


@pytest.mark.parametrize(
    "document", [b"<html><body>Not a feed</body></html>", b"<rss><channel><item><title>x", b""]
)
def test_malformed_documents_raise_a_clear_error(document: bytes) -> None:
    with pytest.raises(FeedError, match="malformed feed"):
        parse_feed(document, "http://feed")


def test_reddit_listing_skips_stickied_and_nsfw() -> None:
    doc = reddit(
        [
            {
                "id": "a1",
                "title": "BTC to the moon",
                "created_utc": WHEN.timestamp(),
                "selftext": "**Bullish** on <b>BTC</b>",
            },
            {"id": "a2", "title": "Daily discussion", "created_utc": 1.0, "stickied": True},
            {"id": "a3", "title": "nsfw", "created_utc": 1.0, "over_18": True},
        ]
    )
    (post,) = parse_reddit(doc.encode(), "https://www.reddit.com/r/CryptoCurrency/new.json")
    assert post.url == "https://www.reddit.com/r/CryptoCurrency/comments/a1/post/"
    assert post.guid == "t3_a1" and post.published_at == WHEN
    assert post.summary == "**Bullish** on BTC"


@pytest.mark.parametrize(
    "document", [b"{}", b"[1, 2]", b'{"kind": "t1", "data": {"children": []}}', b"<html>"]
)
def test_not_a_reddit_listing(document: bytes) -> None:
    with pytest.raises(FeedError, match="not a Reddit listing"):
        parse_reddit(document, "http://r")


def test_canonical_url_and_keys() -> None:
    assert canonical_url("HTTPS://News.Test/a/?utm_medium=x&id=3#top") == "https://news.test/a?id=3"
    assert entry_key("https://news.test/a/", None) == entry_key("https://NEWS.test/a#x", "other")
    assert entry_key(None, "guid-1") != entry_key(None, "guid-2")
    assert clean_text("<p>a&nbsp;&lt;b&gt;</p>") == "a <b>"
