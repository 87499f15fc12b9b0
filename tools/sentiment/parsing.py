"""Turning fetched feed documents into entries: RSS/Atom through feedparser, Reddit listings.

Parsing never touches the network (feedparser is given bytes, never a URL). Every entry gets a
stable `key`, the sha256 of its canonical URL (tracking parameters and fragments dropped) or of
its guid when it has no link, so the same story from two fetches or two feeds is stored once.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tools.sentiment.base import FeedError

MAX_SUMMARY_CHARS = 1000
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_BOILERPLATE = re.compile(r"\s*The post .{0,300}? appeared first on .{0,100}?\.?\s*$", re.I)
_TRACKING = re.compile(r"^(?:utm_\w+|ref|fbclid|gclid|mc_cid|mc_eid|cmpid)$", re.I)


@dataclass(frozen=True)
class FeedEntry:
    """One story as parsed: `published_at` is None when the source gave no date."""

    key: str
    url: str | None
    guid: str | None
    title: str
    summary: str
    published_at: datetime | None

    @property
    def text(self) -> str:
        """What is scored: the headline, plus the start of the summary when it adds to it."""
        summary = self.summary[:300]
        if not summary or summary.lower().startswith(self.title.lower()[:60]):
            return self.title
        return f"{self.title}. {summary}"


def clean_text(raw: str | None, limit: int = MAX_SUMMARY_CHARS) -> str:
    """Plain text from an HTML fragment: tags dropped, entities decoded, spaces collapsed."""
    if not raw:
        return ""
    text = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", raw))).strip()
    return _BOILERPLATE.sub("", text)[:limit].strip()


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no fragment, no tracking parameters, no trailing slash."""
    parts = urlsplit(url.strip())
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k)])
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, ""))


def entry_key(url: str | None, guid: str | None) -> str:
    """sha256 of the canonical URL, else of the guid."""
    basis = canonical_url(url) if url else f"guid:{guid}"
    return hashlib.sha256(basis.encode()).hexdigest()


def _timestamp(struct: Any) -> datetime | None:
    if not struct:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(struct), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def parse_feed(document: bytes, url: str, max_items: int = 100) -> list[FeedEntry]:
    """Entries of an RSS or Atom document (feedparser's salvage of slightly broken XML is kept);
    a document with nothing usable that is broken or not a feed raises `FeedError`."""
    import feedparser

    parsed = feedparser.parse(document)
    entries: list[FeedEntry] = []
    for item in parsed.entries[:max_items]:
        title = clean_text(item.get("title"), 500)
        link = item.get("link") or None
        guid = item.get("id") or None
        if not title or not (link or guid):
            continue
        published = _timestamp(item.get("published_parsed") or item.get("updated_parsed"))
        summary = clean_text(item.get("summary") or item.get("description"))
        entries.append(FeedEntry(entry_key(link, guid), link, guid, title, summary, published))
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        # feedparser salvages what it can from broken XML; with nothing usable it is an error
        reason = parsed.get("bozo_exception") or "no RSS or Atom content"
        raise FeedError(f"{url}: malformed feed ({reason})")
    return entries


def parse_reddit(document: bytes, url: str, max_items: int = 100) -> list[FeedEntry]:
    """Posts of a Reddit JSON listing (`/r/<sub>/new.json`); stickied and NSFW posts skipped."""
    try:
        listing = json.loads(document)
        children = listing["data"]["children"]
    except (ValueError, KeyError, TypeError) as exc:
        raise FeedError(f"{url}: not a Reddit listing ({exc})") from None
    if listing.get("kind") != "Listing" or not isinstance(children, list):
        raise FeedError(f"{url}: not a Reddit listing (kind {listing.get('kind')!r})")
    base = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    entries: list[FeedEntry] = []
    for child in children[:max_items]:
        post = child.get("data") if isinstance(child, dict) else None
        if not isinstance(post, dict) or post.get("stickied") or post.get("over_18"):
            continue
        title = clean_text(post.get("title"), 500)
        permalink = post.get("permalink")
        if not title or not permalink:
            continue
        link = base + permalink
        created = post.get("created_utc")
        published = datetime.fromtimestamp(float(created), tz=UTC) if created else None
        summary = clean_text(post.get("selftext"))
        guid = post.get("name") or None
        entries.append(FeedEntry(entry_key(link, guid), link, guid, title, summary, published))
    return entries
