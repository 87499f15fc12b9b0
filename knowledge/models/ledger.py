"""Prediction ledger: every forecast served is stored; when the actual close arrives it is scored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from knowledge.database import Database


@dataclass(frozen=True)
class LedgerEntry:
    """One predicted point of a served forecast."""

    origin_date: date
    target_date: date
    horizon: int
    origin_close: float
    predicted: float
    lower: float
    upper: float


class PredictionLedger:
    """Writes served forecasts (idempotently) and scores them against stored closes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, symbol: str, model_version: int, entries: list[LedgerEntry]) -> int:
        """Store a forecast's points; the same forecast served twice is stored once."""
        with self.db.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO prediction_ledger (symbol, model_version, origin_date, target_date,
                       horizon, origin_close, predicted, lower, upper)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
                   ON CONFLICT (symbol, model_version, origin_date, target_date) DO NOTHING""",
                [
                    (
                        symbol,
                        model_version,
                        e.origin_date,
                        e.target_date,
                        e.horizon,
                        e.origin_close,
                        e.predicted,
                        e.lower,
                        e.upper,
                    )
                    for e in entries
                ],
            )
            return max(cur.rowcount, 0)

    def score(self, symbol: str | None = None) -> int:
        """Fill `actual` for every unscored entry whose target day now has a daily close."""
        where = "AND l.symbol = %s" if symbol else ""
        params: tuple[Any, ...] = (datetime.now(UTC), symbol) if symbol else (datetime.now(UTC),)
        with self.db.connection() as conn, conn.transaction():
            cur = conn.execute(
                f"""UPDATE prediction_ledger l SET actual = p.close, scored_at = %s
                    FROM price_bars p
                    WHERE l.actual IS NULL AND p.symbol = l.symbol AND p.interval = '1d'
                      AND p.ts = l.target_date::timestamp AT TIME ZONE 'UTC' {where}""",
                params,
            )
            return max(cur.rowcount, 0)

    def realized(
        self, symbol: str, since: date | None = None, horizon: int | None = None
    ) -> dict[str, Any]:
        """Realised accuracy of scored entries: n, MAPE, MAE, naive MAE, skill, coverage."""
        clauses: list[str] = ["symbol = %s"]
        params: list[Any] = [symbol]
        if since is not None:
            clauses.append("target_date >= %s")
            params.append(since)
        if horizon is not None:
            clauses.append("horizon = %s")
            params.append(horizon)
        scored = "FILTER (WHERE actual IS NOT NULL)"
        with self.db.connection() as conn:
            row = conn.execute(
                f"""SELECT count(*) {scored},
                           avg(abs(predicted - actual) / actual) {scored} * 100,
                           avg(abs(predicted - actual)) {scored},
                           avg(abs(origin_close - actual)) {scored},
                           avg(CASE WHEN actual BETWEEN lower AND upper THEN 1.0 ELSE 0.0 END)
                               {scored},
                           count(*) FILTER (WHERE actual IS NULL)
                    FROM prediction_ledger WHERE {" AND ".join(clauses)}""",
                params,
            ).fetchone()
        assert row is not None
        n, mape, mae, naive_mae, coverage, pending = row
        skill = 1 - mae / naive_mae if n and naive_mae else None
        return {
            "n": n,
            "pending": pending,
            "mape_realized": round(float(mape), 4) if mape is not None else None,
            "mae": round(float(mae), 8) if mae is not None else None,
            "naive_mae": round(float(naive_mae), 8) if naive_mae is not None else None,
            "skill_vs_naive": round(float(skill), 4) if skill is not None else None,
            "interval_coverage": round(float(coverage), 4) if coverage is not None else None,
        }

    def scored(
        self, symbol: str, horizon: int = 1, limit: int = 90
    ) -> list[tuple[float, float, float]]:
        """The latest scored (actual, predicted, naive) triples of one horizon, oldest first."""
        with self.db.connection() as conn:
            rows = conn.execute(
                """SELECT actual, predicted, origin_close FROM (
                       SELECT actual, predicted, origin_close, target_date FROM prediction_ledger
                       WHERE symbol = %s AND horizon = %s AND actual IS NOT NULL
                       ORDER BY target_date DESC LIMIT %s) recent ORDER BY target_date""",
                (symbol, horizon, limit),
            ).fetchall()
        return [(float(a), float(p), float(n)) for a, p, n in rows]

    def entries(self, symbol: str, limit: int = 100) -> list[dict[str, Any]]:
        """The latest ledger rows of a symbol (scored or not)."""
        with self.db.connection() as conn:
            cur = conn.execute(
                """SELECT model_version, served_at, origin_date, target_date, horizon,
                          origin_close, predicted, lower, upper, actual
                   FROM prediction_ledger WHERE symbol = %s
                   ORDER BY origin_date DESC, target_date LIMIT %s""",
                (symbol, limit),
            )
            names = [d.name for d in cur.description or []]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
