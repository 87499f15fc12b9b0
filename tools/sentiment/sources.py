"""Fetching news sources politely: httpx with timeouts, conditional requests, per-host pacing.

Each feed is fetched with its stored ETag / Last-Modified (a 304 costs the server nothing), under
an overall deadline (a server that trickles bytes cannot stall a refresh), with a size cap, and
never sooner than `host_delay` seconds after the previous request to the same host. Different
hosts are fetched concurrently. A failing feed yields an error result, never an exception, so
one bad source does not stop a refresh.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

import anyio
import httpx

from tools.sentiment.base import FeedError
from tools.sentiment.parsing import FeedEntry, parse_feed, parse_reddit

FeedKind = Literal["rss", "reddit"]
log = logging.getLogger(__name__)
MAX_BYTES = 5_000_000
DEFAULT_USER_AGENT = "crypto-assistant/0.1 (news sentiment reader)"


@dataclass(frozen=True)
class FeedSpec:
    """A configured source: `kind` rss covers Atom too; `crypto` marks a crypto-only source."""

    url: str
    kind: FeedKind = "rss"
    name: str = ""
    crypto: bool = True

    @property
    def label(self) -> str:
        """Name shown with items: the configured name, else the host."""
        if self.name:
            return self.name
        try:
            return urlsplit(self.url).netloc or self.url
        except ValueError:  # a mistyped URL is reported by its fetch, not a crash here
            return self.url


def reddit_feed(subreddit: str, base_url: str = "https://www.reddit.com") -> FeedSpec:
    """The public JSON listing of a subreddit's newest posts."""
    sub = subreddit.strip().removeprefix("r/").strip("/")
    return FeedSpec(f"{base_url.rstrip('/')}/r/{sub}/new.json?limit=100", "reddit", f"r/{sub}")


@dataclass
class FetchResult:
    """What one fetch produced: `status` ok, not_modified or error (with `error` saying why)."""

    feed: FeedSpec
    status: Literal["ok", "not_modified", "error"]
    entries: list[FeedEntry] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    http_status: int | None = None
    error: str | None = None
    seconds: float = 0.0

    def summary(self, new_items: int) -> dict[str, object]:
        """JSON-ready outcome, with how many of its entries were new to the store."""
        return {
            "url": self.feed.url,
            "name": self.feed.label,
            "status": self.status,
            "http_status": self.http_status,
            "entries": len(self.entries),
            "new": new_items,
            "error": self.error,
            "seconds": self.seconds,
        }


class FeedFetcher:
    """Fetches feeds; keep one per process so host pacing holds across refreshes."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        host_delay: float = 2.0,
        user_agent: str = DEFAULT_USER_AGENT,
        max_items: int = 100,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.timeout = timeout
        self.host_delay = host_delay
        self.user_agent = user_agent
        self.max_items = max_items
        self._transport = transport
        self._last_request: dict[str, float] = {}
        self._host_locks: dict[tuple[int, str], asyncio.Lock] = {}

    async def fetch_all(
        self,
        feeds: Sequence[FeedSpec],
        validators: dict[str, tuple[str | None, str | None]] | None = None,
        on_result: Callable[[FetchResult], Awaitable[None] | None] | None = None,
    ) -> list[FetchResult]:
        """Fetch every feed (hosts in parallel, each host paced); results in `feeds` order."""
        validators = validators or {}
        async with httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=True,
            headers={"User-Agent": self.user_agent},
            transport=self._transport,
        ) as client:

            async def one(feed: FeedSpec) -> FetchResult:
                etag, modified = validators.get(feed.url, (None, None))
                result = await self.fetch(client, feed, etag, modified)
                if on_result is not None:
                    outcome = on_result(result)
                    if outcome is not None:
                        await outcome
                return result

            return list(await asyncio.gather(*(one(feed) for feed in feeds)))

    async def _pace(self, host: str) -> None:
        wait = self._last_request.get(host, -1e9) + self.host_delay - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_request[host] = time.monotonic()

    async def fetch(
        self,
        client: httpx.AsyncClient,
        feed: FeedSpec,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        """One conditional GET and parse; errors (any of them) are reported in the result."""
        try:
            host = urlsplit(feed.url).netloc
        except ValueError as exc:
            return FetchResult(feed, "error", error=f"invalid feed URL: {exc}")
        loop = id(asyncio.get_running_loop())  # an asyncio.Lock belongs to one event loop
        lock = self._host_locks.setdefault((loop, host), asyncio.Lock())
        started = time.monotonic()
        async with lock:
            await self._pace(host)
            try:
                with anyio.fail_after(self.timeout):
                    result = await self._get(client, feed, etag, last_modified)
            except (TimeoutError, httpx.TimeoutException):
                result = FetchResult(feed, "error", error=f"timed out after {self.timeout:g}s")
            except httpx.HTTPError as exc:
                result = FetchResult(feed, "error", error=f"{type(exc).__name__}: {exc}")
            except FeedError as exc:
                result = FetchResult(feed, "error", error=str(exc))
            except Exception as exc:  # a parser bug must not stop the other feeds
                log.exception("feed %s failed", feed.url)
                result = FetchResult(feed, "error", error=f"{type(exc).__name__}: {exc}")
            finally:
                self._last_request[host] = time.monotonic()
        result.seconds = round(time.monotonic() - started, 3)
        return result

    async def _get(
        self, client: httpx.AsyncClient, feed: FeedSpec, etag: str | None, modified: str | None
    ) -> FetchResult:
        headers = {"If-None-Match": etag} if etag else {}
        if modified:
            headers["If-Modified-Since"] = modified
        async with client.stream("GET", feed.url, headers=headers) as response:
            if response.status_code == 304:
                return FetchResult(
                    feed, "not_modified", etag=etag, last_modified=modified, http_status=304
                )
            if response.status_code != 200:
                return FetchResult(
                    feed,
                    "error",
                    http_status=response.status_code,
                    error=f"HTTP {response.status_code}",
                )
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise FeedError(f"{feed.url}: larger than {MAX_BYTES} bytes")
        parse = parse_reddit if feed.kind == "reddit" else parse_feed
        entries = parse(bytes(body), feed.url, self.max_items)
        return FetchResult(
            feed,
            "ok",
            entries,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            http_status=200,
        )
