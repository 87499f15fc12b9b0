"""From a fetch result to rows for the news store: each entry tagged with the coins it names.

Tagging reads the headline and the summary; a crypto-only source (`FeedSpec.crypto`) lets
capitalised ambiguous tickers ("SOL", "LINK") count without further context.
"""

from __future__ import annotations

from knowledge.news import NewsDraft
from tools.sentiment.sources import FetchResult
from tools.sentiment.tagging import tag_symbols


def news_drafts(result: FetchResult) -> list[NewsDraft]:
    """One draft per entry, with its source name, feed URL and symbols."""
    feed = result.feed
    return [
        NewsDraft(
            item_key=entry.key,
            url=entry.url,
            guid=entry.guid,
            title=entry.title,
            summary=entry.summary,
            text=entry.text,
            source=feed.label,
            feed_url=feed.url,
            published_at=entry.published_at,
            symbols=tuple(
                tag_symbols(f"{entry.title}\n{entry.summary}", assume_crypto=feed.crypto)
            ),
        )
        for entry in result.entries
    ]
