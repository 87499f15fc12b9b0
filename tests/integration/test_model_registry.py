"""Model registry and prediction ledger on real Postgres."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from agent.core import Services
from knowledge.market.csv_files import import_file
from knowledge.models.ledger import LedgerEntry, PredictionLedger
from knowledge.models.registry import ModelRegistry, RegistryError
from tests.factories import synthetic_bars, write_csv


def _register(registry: ModelRegistry, symbol: str = "BTC-USD", mae: float = 10.0) -> Any:
    return registry.register(
        symbol,
        train_start=date(2020, 1, 1),
        train_end=date(2024, 12, 31),
        hyperparams={"window": 30},
        data_fingerprint="abc",
        eval_window={"start": "2024-07-01", "end": "2024-12-31"},
        metrics={"1": {"mae": mae}},
        baseline={"1": {"mae": 12.0}},
        artifact_path="/models/x",
    )


def test_versions_count_up_and_only_one_champion(services: Services) -> None:
    registry = ModelRegistry(services.db)
    first, second = _register(registry), _register(registry, mae=9.0)
    other = _register(registry, symbol="ETH-USD")
    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert registry.champion("BTC-USD") is None
    registry.promote("BTC-USD", 1)
    registry.promote("BTC-USD", 2)
    statuses = {v.version: v.status for v in registry.versions("BTC-USD")}
    assert statuses == {1: "archived", 2: "champion"}
    assert registry.champion("ETH-USD") is None
    with pytest.raises(RegistryError):
        registry.promote("BTC-USD", 7)
    with services.db.connection() as conn, pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("UPDATE model_versions SET status = 'champion' WHERE symbol = 'BTC-USD'")


def test_ledger_stores_once_and_scores_when_the_close_arrives(
    services: Services, tmp_path: Path
) -> None:
    bars = synthetic_bars(40, start="2024-01-01")
    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", bars.iloc[:30]))
    ledger = PredictionLedger(services.db)
    origin = date(2024, 1, 30)
    close = float(bars["close"].iloc[29])
    entries = [
        LedgerEntry(
            origin, origin + timedelta(days=h), h, close, close * 1.01, close * 0.95, close * 1.05
        )
        for h in (1, 2, 3)
    ]
    assert ledger.record("BTC-USD", 1, entries) == 3
    assert ledger.record("BTC-USD", 1, entries) == 0  # the same forecast served twice
    assert ledger.score("BTC-USD") == 0  # no actual yet
    assert ledger.realized("BTC-USD") == {
        "n": 0, "pending": 3, "mape_realized": None, "mae": None, "naive_mae": None,
        "skill_vs_naive": None, "interval_coverage": None,
    }  # fmt: skip

    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", bars.iloc[:32]))
    assert ledger.score("BTC-USD") == 2  # Jan 31 and Feb 1 have arrived
    stats = ledger.realized("BTC-USD")
    actual = bars["close"].iloc[30:32].to_numpy()
    predicted = close * 1.01
    assert stats["n"] == 2 and stats["pending"] == 1
    expected_mae = float(abs(predicted - actual).mean())
    assert stats["mae"] == pytest.approx(expected_mae, rel=1e-6)
    assert stats["naive_mae"] == pytest.approx(float(abs(close - actual).mean()), rel=1e-6)
    assert stats["mape_realized"] == pytest.approx(
        float((abs(predicted - actual) / actual).mean() * 100), rel=1e-4
    )
