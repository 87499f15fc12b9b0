"""The news store: items for sentiment, deduplicated, tagged with symbols, scored once.

`insert` ignores an item whose key (hash of its canonical URL or guid) is already stored, so a
refresh can run any number of times. `save_scores` only fills items that have no score yet: an
item keeps the score and model name it was first given. Reads are point in time: `items` takes
a half-open window `[start, end)` on publication time. Feeds' HTTP validators (ETag,
Last-Modified) are kept per feed URL for conditional requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from knowledge.database import Database


@dataclass(frozen=True)
class NewsDraft:
    """An item to store; `published_at` None means the source gave no date (fetch time used)."""

    item_key: str
    url: str | None
    guid: str | None
    title: str
    summary: str
    text: str
    source: str
    feed_url: str
    published_at: datetime | None
    symbols: tuple[str, ...]


@dataclass(frozen=True)
class NewsItem:
    """A stored item; the score fields are None until it has been scored."""

    id: int
    url: str | None
    title: str
    text: str
    source: str
    published_at: datetime
    published_estimated: bool
    symbols: tuple[str, ...]
    label: str | None
    score: float | None
    confidence: float | None
    model: str | None


@dataclass(frozen=True)
class FeedState:
    """What the last fetch of a feed left behind."""

    url: str
    kind: str
    name: str
    etag: str | None
    last_modified: str | None
    last_fetched_at: datetime | None
    last_status: str | None
    last_error: str | None
    items_total: int


_ITEM_COLUMNS = (
    "id, url, title, text, source, published_at, published_estimated, symbols, label, score, "
    "confidence, model"
)


def _item(row: tuple[Any, ...]) -> NewsItem:
    return NewsItem(
        id=int(row[0]),
        url=row[1],
        title=row[2],
        text=row[3],
        source=row[4],
        published_at=row[5],
        published_estimated=bool(row[6]),
        symbols=tuple(row[7]),
        label=row[8],
        score=row[9],
        confidence=row[10],
        model=row[11],
    )


class NewsStore:
    """News items and feed state in Postgres (tables from migration 0004)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, drafts: Iterable[NewsDraft], fetched_at: datetime | None = None) -> int:
        """Store new items (known keys are skipped); return how many were new."""
        return len(self.insert_new(drafts, fetched_at))

    def insert_new(
        self, drafts: Iterable[NewsDraft], fetched_at: datetime | None = None
    ) -> list[NewsDraft]:
        """Store new items (known keys are skipped) in one transaction; return the new ones."""
        now = fetched_at or datetime.now(UTC)
        new: list[NewsDraft] = []
        with self.db.connection() as conn, conn.transaction(), conn.cursor() as cur:
            for d in drafts:
                cur.execute(
                    """INSERT INTO news_items (item_key, url, guid, title, summary, text, source,
                           feed_url, published_at, published_estimated, fetched_at, symbols)
                       VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                       ON CONFLICT (item_key) DO NOTHING""",
                    (
                        d.item_key,
                        d.url,
                        d.guid,
                        d.title,
                        d.summary,
                        d.text,
                        d.source,
                        d.feed_url,
                        d.published_at or now,
                        d.published_at is None,
                        now,
                        list(d.symbols),
                    ),
                )
                if cur.rowcount:
                    new.append(d)
        return new

    def unscored(self, limit: int = 1000) -> list[tuple[int, str]]:
        """(id, text) of items waiting for a score, oldest first."""
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT id, text FROM news_items WHERE score IS NULL ORDER BY id LIMIT %s",
                (limit,),
            ).fetchall()
        return [(int(r[0]), str(r[1])) for r in rows]

    def save_scores(self, scores: Sequence[tuple[int, str, float, float]], model: str) -> int:
        """Set (id, label, score, confidence) on items not scored yet; return how many were set."""
        done = 0
        with self.db.connection() as conn, conn.transaction(), conn.cursor() as cur:
            for item_id, label, score, confidence in scores:
                cur.execute(
                    """UPDATE news_items SET label = %s, score = %s, confidence = %s, model = %s,
                           scored_at = now()
                       WHERE id = %s AND score IS NULL""",
                    (label, score, confidence, model, item_id),
                )
                done += cur.rowcount
        return done

    def items(
        self, symbol: str, start: datetime, end: datetime, *, scored_only: bool = True
    ) -> list[NewsItem]:
        """Items tagged `symbol` published in [start, end), newest first."""
        scored = "AND score IS NOT NULL" if scored_only else ""
        with self.db.connection() as conn:
            rows = conn.execute(
                f"""SELECT {_ITEM_COLUMNS} FROM news_items
                    WHERE symbols @> ARRAY[%s]::text[] AND published_at >= %s
                      AND published_at < %s {scored}
                    ORDER BY published_at DESC, id DESC""",
                (symbol, start, end),
            ).fetchall()
        return [_item(r) for r in rows]

    def latest_before(self, symbol: str, end: datetime) -> datetime | None:
        """Publication time of the newest scored item on `symbol` before `end`."""
        with self.db.connection() as conn:
            row = conn.execute(
                """SELECT max(published_at) FROM news_items
                   WHERE symbols @> ARRAY[%s]::text[] AND published_at < %s
                     AND score IS NOT NULL""",
                (symbol, end),
            ).fetchone()
        return row[0] if row else None

    def count(self, symbol: str | None = None) -> int:
        """How many items are stored (tagged `symbol`, when given)."""
        with self.db.connection() as conn:
            if symbol is None:
                row = conn.execute("SELECT count(*) FROM news_items").fetchone()
            else:
                row = conn.execute(
                    "SELECT count(*) FROM news_items WHERE symbols @> ARRAY[%s]::text[]",
                    (symbol,),
                ).fetchone()
        return int(row[0]) if row else 0

    def validators(self, urls: Iterable[str]) -> dict[str, tuple[str | None, str | None]]:
        """url -> (ETag, Last-Modified) remembered from the last successful fetch."""
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT url, etag, last_modified FROM news_feeds WHERE url = ANY(%s)",
                (list(urls),),
            ).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def record_fetch(
        self,
        feed_url: str,
        *,
        kind: str,
        name: str,
        status: str,
        etag: str | None = None,
        last_modified: str | None = None,
        error: str | None = None,
        new_items: int = 0,
    ) -> None:
        """Remember a fetch's outcome; validators are replaced only by a successful fetch."""
        replace = status == "ok"
        with self.db.connection() as conn, conn.transaction():
            conn.execute(
                """INSERT INTO news_feeds (url, kind, name, etag, last_modified, last_fetched_at,
                       last_status, last_error, items_total)
                   VALUES (%s, %s, %s, %s, %s, now(), %s, %s, %s)
                   ON CONFLICT (url) DO UPDATE SET
                       kind = EXCLUDED.kind, name = EXCLUDED.name,
                       etag = CASE WHEN %s THEN EXCLUDED.etag ELSE news_feeds.etag END,
                       last_modified = CASE WHEN %s THEN EXCLUDED.last_modified
                                            ELSE news_feeds.last_modified END,
                       last_fetched_at = now(), last_status = EXCLUDED.last_status,
                       last_error = EXCLUDED.last_error,
                       items_total = news_feeds.items_total + EXCLUDED.items_total""",
                (
                    feed_url,
                    kind,
                    name,
                    etag if replace else None,
                    last_modified if replace else None,
                    status,
                    error,
                    new_items,
                    replace,
                    replace,
                ),
            )

    def feeds(self) -> list[FeedState]:
        """Every feed fetched so far, by URL."""
        with self.db.connection() as conn:
            rows = conn.execute(
                """SELECT url, kind, name, etag, last_modified, last_fetched_at, last_status,
                          last_error, items_total FROM news_feeds ORDER BY url"""
            ).fetchall()
        return [FeedState(*r) for r in rows]
