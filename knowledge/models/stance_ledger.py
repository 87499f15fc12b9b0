"""Stance ledger: every technical stance served live is stored once per (symbol, interval, bar)
and scored by its forward returns once the later bars have closed.

The reference price is the close of the bar the stance was computed on (`close`, the last
price the stance saw); the return at h days is `close(bar as_of + h days) / close - 1`, for
daily and hourly calls alike (24/168/720 bars for hourly). Only bars that have closed by the
scoring instant count, a return is written once and never changed, and a target bar that is
missing (a gap in the data) leaves that return unscored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from knowledge.database import Database

HORIZONS = (1, 7, 30)  # days
SIDES: dict[str, tuple[str, ...]] = {
    "bullish": ("strong_bullish", "bullish"),
    "bearish": ("strong_bearish", "bearish"),
    "neutral": ("neutral",),
}
_BAR = "CASE {t}.interval WHEN '1h' THEN interval '1 hour' ELSE interval '1 day' END"


@dataclass(frozen=True)
class StanceCall:
    """One stance as served: the bar it was computed on, the stance, its score and close."""

    symbol: str
    interval: str
    as_of: datetime
    stance: str
    score: float
    close: float

    @property
    def key(self) -> tuple[str, str, datetime]:
        return (self.symbol, self.interval, self.as_of)


class StanceLedger:
    """Upserts served stances (counting repeats) and scores them against stored bars."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, calls: Iterable[tuple[StanceCall, int]], now: datetime | None = None) -> int:
        """Store each call served `n` times: a new row, or `n` more on the existing row (the
        first stance, score and close of a bar are kept). Returns the rows written."""
        served = now or datetime.now(UTC)
        rows = [
            (c.symbol, c.interval, c.as_of, c.stance, c.score, c.close, served, served, n)
            for c, n in calls
        ]
        if not rows:
            return 0
        with self.db.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO stance_ledger AS l (symbol, interval, as_of, stance, score, close,
                       first_served, last_served, served_count)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
                   ON CONFLICT (symbol, interval, as_of) DO UPDATE
                   SET served_count = l.served_count + EXCLUDED.served_count,
                       last_served = greatest(l.last_served, EXCLUDED.last_served),
                       -- a bar still forming changes its stance: the latest served, unscored
                       stance = CASE WHEN l.return_1d IS NULL THEN EXCLUDED.stance
                                     ELSE l.stance END,
                       score = CASE WHEN l.return_1d IS NULL THEN EXCLUDED.score
                                    ELSE l.score END,
                       close = CASE WHEN l.return_1d IS NULL THEN EXCLUDED.close
                                    ELSE l.close END""",
                rows,
            )
        return len(rows)

    def score(self, symbol: str | None = None, now: datetime | None = None) -> int:
        """Fill every missing forward return whose target bar has closed by `now`; returns the
        number of returns written."""
        instant = now or datetime.now(UTC)
        where = "AND l.symbol = %(symbol)s" if symbol else ""
        written = 0
        with self.db.connection() as conn, conn.transaction():
            for h in HORIZONS:
                cur = conn.execute(
                    f"""UPDATE stance_ledger l SET return_{h}d = p.close / l.close - 1,
                               scored_at = %(now)s
                        FROM price_bars p
                        WHERE l.return_{h}d IS NULL AND p.symbol = l.symbol
                          AND p.interval = l.interval
                          AND p.ts = l.as_of + interval '{24 * h} hours'
                          AND p.ts + {_BAR.format(t="p")} <= %(now)s
                          AND p.updated_at >= p.ts + {_BAR.format(t="p")} {where}""",
                    {"now": instant, "symbol": symbol},
                )
                written += max(cur.rowcount, 0)
        return written

    def sides(self, symbol: str, interval: str, since: datetime) -> dict[str, Any]:
        """Per side (bullish, bearish, neutral) of the calls on bars from `since`: calls, and per
        horizon the number scored, the hit rate (bullish right when the return > 0, bearish
        when < 0; none for neutral) and the mean forward return."""
        out: dict[str, Any] = {}
        with self.db.connection() as conn:
            for side, stances in SIDES.items():
                sign = ">" if side == "bullish" else "<"
                parts = ["count(*)"]
                for h in HORIZONS:
                    col = f"return_{h}d"
                    hit = f"avg(CASE WHEN {col} {sign} 0 THEN 1.0 ELSE 0.0 END)"
                    parts += [
                        f"count({col})",
                        f"{hit} FILTER (WHERE {col} IS NOT NULL)",
                        f"avg({col})",
                    ]
                row = conn.execute(
                    f"""SELECT {", ".join(parts)} FROM stance_ledger
                        WHERE symbol = %s AND interval = %s AND as_of >= %s
                          AND stance = ANY(%s)""",
                    (symbol, interval, since, list(stances)),
                ).fetchone()
                assert row is not None
                horizons = {}
                for i, h in enumerate(HORIZONS):
                    n, hit, mean = row[1 + 3 * i : 4 + 3 * i]
                    horizons[str(h)] = {
                        "n": n,
                        "hit_rate": _round(hit) if side != "neutral" else None,
                        "mean_return": _round(mean),
                    }
                out[side] = {"calls": row[0], "horizons": horizons}
        return out

    def base_rates(
        self, symbol: str, since: datetime, until: datetime | None = None
    ) -> dict[str, Any]:
        """The coin's own h-day forward returns from every daily bar in [`since`, `until`]
        whose target bar has closed: n, share up, share down and mean (what a call is
        measured against)."""
        instant = until or datetime.now(UTC)
        out: dict[str, Any] = {}
        with self.db.connection() as conn:
            for h in HORIZONS:
                row = conn.execute(
                    f"""SELECT count(*), avg(CASE WHEN b.close > a.close THEN 1.0 ELSE 0.0 END),
                               avg(CASE WHEN b.close < a.close THEN 1.0 ELSE 0.0 END),
                               avg(b.close / a.close - 1)
                        FROM price_bars a JOIN price_bars b
                          ON b.symbol = a.symbol AND b.interval = a.interval
                         AND b.ts = a.ts + interval '{24 * h} hours'
                        WHERE a.symbol = %(s)s AND a.interval = '1d' AND a.ts >= %(since)s
                          AND a.ts <= %(now)s AND b.ts + interval '1 day' <= %(now)s""",
                    {"s": symbol, "since": since, "now": instant},
                ).fetchone()
                assert row is not None
                out[str(h)] = {
                    "n": row[0],
                    "up_share": _round(row[1]),
                    "down_share": _round(row[2]),
                    "mean_return": _round(row[3]),
                }
        return out

    def latest(self, symbol: str, interval: str, limit: int = 5) -> list[dict[str, Any]]:
        """The newest calls of a symbol (scored or not), newest first."""
        with self.db.connection() as conn:
            cur = conn.execute(
                """SELECT as_of, stance, score, close, served_count, return_1d, return_7d,
                          return_30d
                   FROM stance_ledger WHERE symbol = %s AND interval = %s
                   ORDER BY as_of DESC LIMIT %s""",
                (symbol, interval, limit),
            )
            names = [d.name for d in cur.description or []]
            rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        for row in rows:
            row["as_of"] = row["as_of"].astimezone(UTC).isoformat()
        return rows

    def pending(self, symbol: str, interval: str) -> int:
        """Calls of a symbol still waiting for their 1-day return."""
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT count(*) FROM stance_ledger WHERE symbol = %s AND interval = %s"
                " AND return_1d IS NULL",
                (symbol, interval),
            ).fetchone()
        return int(row[0]) if row else 0


def _round(value: Any) -> float | None:
    return round(float(value), 6) if value is not None else None
