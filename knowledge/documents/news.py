"""News items as `news` documents: one document per article URL, idempotent by content."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from knowledge.documents.models import NewsItem, ParsedDocument
from knowledge.documents.parsing import content_hash
from knowledge.documents.tagging import normalise_symbols, tag_symbols


def news_document(item: NewsItem | dict[str, Any], salt: str = "") -> ParsedDocument:
    """A `news` document for one article: its title, text, URL, publication time and coins.

    The coins given with the item are kept and those named in the title or (at least twice)
    in the text are added.
    """
    news = NewsItem.coerce(item)
    title = " ".join(news.title.split()) or news.url
    text = news.text.strip() or title
    given = normalise_symbols(news.symbols)
    symbols = tuple(dict.fromkeys([*given, *tag_symbols(title, text)]))
    published = news.published_at.isoformat() if news.published_at else ""
    return ParsedDocument(
        source=news.url,
        origin="news",
        kind="news",
        title=title,
        body=text,
        symbols=symbols,
        published_at=news.published_at,
        content_hash=content_hash(title, text, published, ",".join(symbols), salt),
        metadata={"url": news.url},
    )


def news_documents(
    items: Iterable[NewsItem | dict[str, Any]], salt: str = ""
) -> list[ParsedDocument]:
    """Documents for many items; a URL seen twice keeps its last version."""
    by_url: dict[str, ParsedDocument] = {}
    for item in items:
        doc = news_document(item, salt)
        by_url[doc.source] = doc
    return list(by_url.values())
