"""Model registry: versions per symbol with their training range, metrics and status.

At most one champion per symbol (a partial unique index enforces it); promotion archives the
previous champion in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from psycopg.types.json import Jsonb

from knowledge.database import Database
from knowledge.errors import KnowledgeError


class RegistryError(KnowledgeError):
    """A registry operation that cannot be done (unknown version, bad status change)."""


@dataclass(frozen=True)
class ModelVersion:
    """One trained model of one symbol."""

    symbol: str
    version: int
    created_at: datetime
    train_start: date
    train_end: date
    hyperparams: dict[str, Any]
    data_fingerprint: str
    eval_window: dict[str, Any]
    metrics: dict[str, Any]
    baseline: dict[str, Any]
    artifact_path: str
    status: str
    notes: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "trained_at": self.created_at.isoformat(),
            "train_start": self.train_start.isoformat(),
            "train_end": self.train_end.isoformat(),
            "hyperparams": self.hyperparams,
            "data_fingerprint": self.data_fingerprint,
            "eval_window": self.eval_window,
            "metrics": self.metrics,
            "baseline": self.baseline,
            "status": self.status,
            "notes": self.notes,
        }


_COLUMNS = (
    "symbol, version, created_at, train_start, train_end, hyperparams, data_fingerprint, "
    "eval_window, metrics, baseline, artifact_path, status, notes"
)


class ModelRegistry:
    """Reads and writes `model_versions`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def register(
        self,
        symbol: str,
        *,
        train_start: date,
        train_end: date,
        hyperparams: dict[str, Any],
        data_fingerprint: str,
        eval_window: dict[str, Any],
        metrics: dict[str, Any],
        baseline: dict[str, Any],
        artifact_path: str,
        notes: str = "",
    ) -> ModelVersion:
        """Add a candidate with the next version number of the symbol."""
        with self.db.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"registry:{symbol}",))
            row = conn.execute(
                "SELECT coalesce(max(version), 0) + 1 FROM model_versions WHERE symbol = %s",
                (symbol,),
            ).fetchone()
            version = int(row[0]) if row else 1
            created = conn.execute(
                f"""INSERT INTO model_versions (symbol, version, train_start, train_end,
                        hyperparams, data_fingerprint, eval_window, metrics, baseline,
                        artifact_path, notes)
                    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                    RETURNING {_COLUMNS}""",
                (
                    symbol,
                    version,
                    train_start,
                    train_end,
                    Jsonb(hyperparams),
                    data_fingerprint,
                    Jsonb(eval_window),
                    Jsonb(metrics),
                    Jsonb(baseline),
                    artifact_path,
                    notes,
                ),
            ).fetchone()
        assert created is not None
        return ModelVersion(*created)

    def versions(self, symbol: str | None = None) -> list[ModelVersion]:
        """Every version (of one symbol, or all), newest first."""
        where, params = ("WHERE symbol = %s", (symbol,)) if symbol else ("", ())
        with self.db.connection() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM model_versions {where} ORDER BY symbol, version DESC",
                params,
            ).fetchall()
        return [ModelVersion(*row) for row in rows]

    def get(self, symbol: str, version: int) -> ModelVersion:
        """One version, or RegistryError."""
        with self.db.connection() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM model_versions WHERE symbol = %s AND version = %s",
                (symbol, version),
            ).fetchone()
        if row is None:
            raise RegistryError(f"{symbol} has no model version {version}")
        return ModelVersion(*row)

    def champion(self, symbol: str) -> ModelVersion | None:
        """The serving version of a symbol, if any."""
        with self.db.connection() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM model_versions WHERE symbol = %s AND status = 'champion'",
                (symbol,),
            ).fetchone()
        return ModelVersion(*row) if row else None

    def promote(self, symbol: str, version: int) -> ModelVersion:
        """Make `version` the champion and archive the previous one, atomically."""
        with self.db.connection() as conn, conn.transaction():
            exists = conn.execute(
                "SELECT status FROM model_versions WHERE symbol = %s AND version = %s FOR UPDATE",
                (symbol, version),
            ).fetchone()
            if exists is None:
                raise RegistryError(f"{symbol} has no model version {version}")
            conn.execute(
                "UPDATE model_versions SET status = 'archived' "
                "WHERE symbol = %s AND status = 'champion' AND version <> %s",
                (symbol, version),
            )
            conn.execute(
                "UPDATE model_versions SET status = 'champion' WHERE symbol = %s AND version = %s",
                (symbol, version),
            )
        return self.get(symbol, version)

    def set_notes(self, symbol: str, version: int, notes: str) -> None:
        """Record why a candidate was not promoted (or anything else worth keeping)."""
        with self.db.connection() as conn:
            conn.execute(
                "UPDATE model_versions SET notes = %s WHERE symbol = %s AND version = %s",
                (notes, symbol, version),
            )
