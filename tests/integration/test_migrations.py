"""Migrations: pgvector enabled, recorded once, safe when two processes start together."""

from __future__ import annotations

import multiprocessing as mp

import psycopg

from knowledge.database import Database
from knowledge.migrations import applied_versions, apply_migrations, discover


def _migrate(url: str) -> list[str]:
    db = Database(url, timeout=10)
    db.open()
    try:
        return apply_migrations(db)
    finally:
        db.close()


def test_upgrade_creates_schema_with_pgvector_and_is_idempotent(database_url: str) -> None:
    first = _migrate(database_url)
    second = _migrate(database_url)
    assert first == [m.path.name for m in discover()]
    assert second == []
    with psycopg.connect(database_url) as conn:
        ext = conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
        ).fetchone()
        assert ext is not None
        conn.execute("SELECT '[1,2,3]'::vector <=> '[1,2,4]'::vector")
        assert conn.execute("SELECT to_regclass('price_bars')").fetchone() == ("price_bars",)


def test_two_processes_migrating_at_once_end_with_one_schema(database_url: str) -> None:
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        results = pool.map(_migrate, [database_url, database_url])
    names = [m.path.name for m in discover()]
    # exactly one process applied each migration; the other found the work done
    assert sorted(results, key=len) == [[], names]
    db = Database(database_url)
    db.open()
    assert applied_versions(db) == [m.version for m in discover()]
    db.close()
