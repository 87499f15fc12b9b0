"""News sentiment as a service: scoring texts, a symbol's reading, its trend, news refresh.

The one facade the agent tool, the API, the CLI, Telegram and the web chat use. The analyzer is
chosen once per process on first use (transformers model if local, else a trained embedding
head, else the crypto lexicon) and named in every answer; a head trained later is picked up
without a restart (`agent.services.sentiment_models`). Store access and scoring run in worker
threads; feed fetching is async. Also here: the `news_sentiment` agent tool and the offline
answer paragraph for its result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import anyio
import httpx

from agent.errors import InvalidRequestError, ModelUnavailableError
from agent.services.sentiment_models import HEAD_RELOAD_SECONDS, AnalyzerHolder
from knowledge.embeddings import Embedder
from knowledge.market.symbols import resolve
from knowledge.news import NewsStore
from tools.sentiment import (
    AnalyzerUnavailableError,
    FeedFetcher,
    FetchResult,
    Selection,
    sentiment_trend_figure,
)
from tools.sentiment.config import SentimentConfig, as_of_time, start_time
from tools.sentiment.ingest import news_drafts
from tools.sentiment.report import symbol_report, texts_report, trend_report

log = logging.getLogger(__name__)
MAX_TEXTS = 100
MAX_TEXT_CHARS = 5000
MIN_WINDOW_DAYS = 1 / 1440  # one minute: a shorter window is below the resolution of a feed
SCORE_BATCH = 64
Progress = Callable[[str, int, int], None]  # (stage "fetch" | "score", done, total)


@dataclass
class SentimentService:
    """News sentiment over a `NewsStore`; build once per process."""

    store: NewsStore
    config: SentimentConfig = field(default_factory=SentimentConfig)
    embedder: Embedder | None = None
    transport: httpx.AsyncBaseTransport | None = None
    # called with the newly stored items (dicts: title, text, url, published_at, symbols), so
    # the knowledge store can index them as news documents
    on_new_items: Callable[[list[dict[str, Any]]], Any] | None = None
    # at most this often, a newer embedding head saved meanwhile replaces the analyzer
    reload_seconds: float = HEAD_RELOAD_SECONDS

    def __post_init__(self) -> None:
        self.analyzers = AnalyzerHolder(
            self.config.analyzer_options, self._embedder, self.reload_seconds
        )
        self.fetcher = FeedFetcher(
            timeout=self.config.timeout_seconds,
            host_delay=self.config.host_delay_seconds,
            user_agent=self.config.user_agent,
            max_items=self.config.max_items_per_feed,
            transport=self.transport,
        )

    def symbol(self, text: str) -> str:
        """The Yahoo symbol for a symbol, ticker or name (unknown: `UnknownSymbolError`)."""
        return resolve(text).symbol

    def _embedder(self) -> Embedder:
        if self.embedder is None:
            self.embedder = Embedder()
        return self.embedder

    def selection(self) -> Selection:
        """The analyzer in use (chosen on first call; a newer trained head replaces it)."""
        try:
            return self.analyzers.current()
        except AnalyzerUnavailableError as exc:
            raise ModelUnavailableError(f"Sentiment model unavailable: {exc}") from None

    def status(self, *, choose: bool = True) -> dict[str, Any]:
        """Which analyzer is in use, its head's version and trained time, why others were
        passed over, and how often a newer head is looked for. `choose=False` does not load
        an analyzer that was not used yet (then `analyzer` is None)."""
        if choose:
            self.selection()
        return self.analyzers.status()

    def _analyze(self, texts: Sequence[str]) -> tuple[str, list[Any]]:
        analyzer = self.selection().analyzer
        try:
            return analyzer.name, analyzer.analyze(texts)
        except AnalyzerUnavailableError as exc:
            raise ModelUnavailableError(f"Sentiment model unavailable: {exc}") from None

    async def score_texts(self, texts: Sequence[str]) -> dict[str, Any]:
        """Score up to 100 texts of up to 5,000 characters each; no storage involved."""
        if not texts:
            raise InvalidRequestError("Give at least one text to score.")
        if len(texts) > MAX_TEXTS:
            raise InvalidRequestError(
                f"At most {MAX_TEXTS} texts per request ({len(texts)} given)."
            )
        for i, text in enumerate(texts):
            if not text.strip():
                raise InvalidRequestError(f"Text {i} is empty.")
            if len(text) > MAX_TEXT_CHARS:
                raise InvalidRequestError(
                    f"Text {i} has {len(text)} characters; the limit is {MAX_TEXT_CHARS}."
                )
        name, scores = await anyio.to_thread.run_sync(self._analyze, list(texts))
        return texts_report(texts, scores, name)

    async def symbol_sentiment(
        self,
        symbol: str,
        window_days: float = 7,
        as_of: date | datetime | None = None,
        since: date | datetime | None = None,
    ) -> dict[str, Any]:
        """Recency-weighted reading of the news on `symbol` published in the window before
        `as_of` (or since `since`), with its evidence; says so when there is none."""
        coin = resolve(symbol)
        end = as_of_time(as_of)
        if not MIN_WINDOW_DAYS <= window_days <= 365:
            raise InvalidRequestError("window_days must be at least one minute and at most 365.")
        start = start_time(since) if since is not None else end - timedelta(days=window_days)
        if start >= end:
            raise InvalidRequestError("`since` must be before `as_of`.")

        def read() -> dict[str, Any]:
            items = self.store.items(coin.symbol, start, end)
            latest = None if items else self.store.latest_before(coin.symbol, end)
            return symbol_report(
                coin.symbol,
                coin.name,
                items,
                start=start,
                as_of=end,
                half_life_hours=self.config.half_life_hours,
                latest_before=latest,
            )

        return await anyio.to_thread.run_sync(read)

    async def trend(
        self, symbol: str, days: int = 30, as_of: date | datetime | None = None
    ) -> dict[str, Any]:
        """Daily mean score and item count for the `days` UTC days ending at `as_of`."""
        coin = resolve(symbol)
        if not 1 <= days <= 365:
            raise InvalidRequestError("days must be between 1 and 365.")
        end = as_of_time(as_of)
        last_day = (end - timedelta(microseconds=1)).date()  # the UTC day `end` closes
        start = datetime.combine(last_day - timedelta(days=days - 1), time(0), tzinfo=UTC)

        def read() -> dict[str, Any]:
            items = self.store.items(coin.symbol, start, end)
            return trend_report(coin.symbol, coin.name, items, as_of=end, days=days)

        return await anyio.to_thread.run_sync(read)

    async def trend_figure(
        self, symbol: str, days: int = 30, as_of: date | datetime | None = None
    ) -> tuple[dict[str, Any], Any]:
        """The trend and its Plotly figure (for the web chat)."""
        result = await self.trend(symbol, days, as_of)
        return result, sentiment_trend_figure(result)

    async def refresh_news(self, progress: Progress | None = None) -> dict[str, Any]:
        """Fetch every configured source, store new items (tagged), then score unscored ones."""
        feeds = self.config.feed_specs()
        validators = await anyio.to_thread.run_sync(self.store.validators, [f.url for f in feeds])
        outcomes: dict[str, dict[str, Any]] = {}
        # results are stored in configuration order (fetching stays concurrent across hosts), so
        # a story two feeds carry is always credited to the first of them, whatever the timing
        position = {id(feed): i for i, feed in enumerate(feeds)}
        stored_in_order = [anyio.Event() for _ in feeds]

        async def stored(result: FetchResult) -> None:
            i = position[id(result.feed)]
            try:
                if i:
                    await stored_in_order[i - 1].wait()
                new = await anyio.to_thread.run_sync(self._store_result, result)
                outcomes[result.feed.url] = result.summary(new)
                if progress is not None:
                    progress("fetch", len(outcomes), len(feeds))
            finally:
                stored_in_order[i].set()

        try:
            await self.fetcher.fetch_all(feeds, validators, stored)
        finally:  # a fetch that raised anyway never leaves the later feeds waiting
            for event in stored_in_order:
                event.set()
        scored, model = await anyio.to_thread.run_sync(self._score_pending, progress)
        report = [outcomes[f.url] for f in feeds]
        return {
            "feeds": report,
            "new_items": sum(r["new"] for r in report),
            "scored": scored,
            "model": model,
            "notes": list(self.selection().notes) if scored else [],
            "failed": sum(r["status"] == "error" for r in report),
        }

    def _store_result(self, result: FetchResult) -> int:
        feed = result.feed
        drafts = self.store.insert_new(news_drafts(result))
        new = len(drafts)
        if drafts and self.on_new_items is not None:
            try:
                self.on_new_items(
                    [
                        {
                            "title": d.title,
                            "text": d.text or d.summary,
                            "url": d.url or d.item_key,
                            "published_at": d.published_at,
                            "symbols": list(d.symbols),
                        }
                        for d in drafts  # only the items stored just now
                    ]
                )
            except Exception as exc:  # indexing news must not lose the stored items
                log.warning("news items could not be indexed in the knowledge base: %s", exc)
        self.store.record_fetch(
            feed.url,
            kind=feed.kind,
            name=feed.label,
            status=result.status,
            etag=result.etag,
            last_modified=result.last_modified,
            error=result.error,
            new_items=new,
        )
        return new

    def _score_pending(self, progress: Progress | None) -> tuple[int, str | None]:
        pending = self.store.unscored(limit=100_000)
        if not pending:
            return 0, None
        done, name = 0, None
        for start in range(0, len(pending), SCORE_BATCH):
            batch = pending[start : start + SCORE_BATCH]
            name, scores = self._analyze([text for _, text in batch])
            rows = [
                (i, s.label, s.score, s.confidence) for (i, _), s in zip(batch, scores, strict=True)
            ]
            done += self.store.save_scores(rows, name)
            if progress is not None:
                progress("score", min(start + SCORE_BATCH, len(pending)), len(pending))
        return done, name


def service_for(services: Any) -> SentimentService:
    """`services.sentiment` when the composition root has one, else one built (and kept) from
    its database and settings: front-ends work the same before and after that wiring."""
    existing = getattr(services, "sentiment", None)
    if isinstance(existing, SentimentService):
        return existing
    built = SentimentService(
        NewsStore(services.db),
        SentimentConfig.from_settings(services.settings),
        embedder=getattr(services, "embedder", None),
    )
    services.sentiment = built
    return built
