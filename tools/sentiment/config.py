"""The sentiment engine's configuration, read from the application settings, and `as_of`.

`SentimentConfig.from_settings` reads the `SENTIMENT_*` / `NEWS_*` settings by name and falls
back to the defaults below for any that a settings object does not define.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from knowledge.as_of import as_of_instant, start_instant
from tools.sentiment.base import AnalyzerUnavailableError
from tools.sentiment.select import AnalyzerOptions
from tools.sentiment.sources import DEFAULT_USER_AGENT, FeedSpec, reddit_feed
from tools.sentiment.transformer import DEFAULT_MODEL, parse_label_map

DEFAULT_FEEDS = (
    "https://www.coindesk.com/arc/outboundfeeds/rss/",
    "https://cointelegraph.com/rss",
    "https://decrypt.co/feed",
)
DEFAULT_SUBREDDITS = ("CryptoCurrency", "Bitcoin", "ethereum")


def _listing(value: Any, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        return default
    parts = value.split(",") if isinstance(value, str) else value
    return tuple(str(p).strip() for p in parts if str(p).strip())


@dataclass(frozen=True)
class SentimentConfig:
    """The sentiment settings (see the README's configuration table for each variable)."""

    backend: str = "auto"
    model: str = DEFAULT_MODEL
    label_map: str | None = None
    batch_size: int = 16
    max_length: int = 256
    model_dir: Path = Path("var/models")
    half_life_hours: float = 48.0
    feeds: tuple[str, ...] = DEFAULT_FEEDS
    subreddits: tuple[str, ...] = DEFAULT_SUBREDDITS
    reddit_base_url: str = "https://www.reddit.com"
    timeout_seconds: float = 10.0
    host_delay_seconds: float = 2.0
    user_agent: str = DEFAULT_USER_AGENT
    max_items_per_feed: int = 100

    @classmethod
    def from_settings(cls, settings: Any) -> SentimentConfig:
        """Read `SENTIMENT_*` / `NEWS_*` settings, falling back to these defaults when absent."""
        base = cls()

        def get(name: str, default: Any) -> Any:
            value = getattr(settings, name, None)
            return default if value is None else value

        return cls(
            backend=get("sentiment_backend", base.backend),
            model=get("sentiment_model", base.model),
            label_map=get("sentiment_label_map", base.label_map),
            batch_size=get("sentiment_batch_size", base.batch_size),
            max_length=get("sentiment_max_length", base.max_length),
            model_dir=Path(get("resolved_model_dir", base.model_dir)),
            half_life_hours=get("sentiment_half_life_hours", base.half_life_hours),
            feeds=_listing(getattr(settings, "news_feeds", None), base.feeds),
            subreddits=_listing(getattr(settings, "news_subreddits", None), base.subreddits),
            reddit_base_url=get("news_reddit_base_url", base.reddit_base_url),
            timeout_seconds=get("news_timeout_seconds", base.timeout_seconds),
            host_delay_seconds=get("news_host_delay_seconds", base.host_delay_seconds),
            user_agent=get("news_user_agent", base.user_agent),
            max_items_per_feed=get("news_max_items_per_feed", base.max_items_per_feed),
        )

    def analyzer_options(self) -> AnalyzerOptions:
        """Selection options; a malformed label map raises `AnalyzerUnavailableError`."""
        try:
            label_map = parse_label_map(self.label_map)
        except ValueError as exc:
            raise AnalyzerUnavailableError(f"SENTIMENT_LABEL_MAP: {exc}") from None
        return AnalyzerOptions(
            backend=self.backend,  # type: ignore[arg-type]
            transformer_model=self.model,
            batch_size=self.batch_size,
            max_length=self.max_length,
            label_map=label_map,
            model_dir=self.model_dir,
        )

    def feed_specs(self) -> list[FeedSpec]:
        """RSS/Atom feeds then subreddits, as fetchable sources."""
        specs = [FeedSpec(url, "rss") for url in self.feeds]
        return specs + [reddit_feed(sub, self.reddit_base_url) for sub in self.subreddits]


def as_of_time(value: date | datetime | None) -> datetime:
    """UTC instant for `as_of` by the project's one rule (`knowledge.as_of`): now when None, the
    end of that UTC day for a date; items published at or after it are not seen."""
    return datetime.now(UTC) if value is None else as_of_instant(value)


def start_time(value: date | datetime) -> datetime:
    """UTC instant a window starts at: the start of that UTC day for a date."""
    return start_instant(value)
