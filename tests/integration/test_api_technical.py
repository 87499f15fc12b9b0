"""POST /technical against real Postgres: engine values, point in time, errors, cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.core import Services
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv
from tools.indicators import TechnicalEngine

BARS = synthetic_bars(400, seed=11)


def assert_same_values(got: dict[str, float | None], want: dict[str, float | None]) -> None:
    """Same keys, the same nulls, numbers equal to float precision."""
    assert got.keys() == want.keys()
    assert {k for k, v in got.items() if v is None} == {k for k, v in want.items() if v is None}
    numbers = {k: v for k, v in want.items() if v is not None}
    assert {k: got[k] for k in numbers} == pytest.approx(numbers, rel=1e-9)


@pytest.fixture
def loaded(services: Services, tmp_path: Path) -> Services:
    import_file(services.prices, write_csv(tmp_path, "ETH-USD.csv", BARS))
    import_file(
        services.prices, write_csv(tmp_path, "ETH-USD_1h.csv", synthetic_bars(300, freq="h"))
    )
    return services


def test_values_equal_the_engine_on_the_same_bars(loaded: Services, client: TestClient) -> None:
    res = client.post("/technical", json={"symbol": "ether"})
    assert res.status_code == 200
    body = res.json()
    stored = loaded.prices.read("ETH-USD", "1d")
    direct = TechnicalEngine().analyze(stored, symbol="ETH-USD")
    assert body["symbol"] == "ETH-USD"
    assert_same_values(body["values"], direct.model_dump(mode="json")["values"])
    assert body["summary"]["stance"] == direct.summary.stance
    assert {s["action"] for s in body["signals"]} <= {"buy", "sell", "hold"}
    assert all(s["reason"] for s in body["signals"])
    assert {
        "rsi_14",
        "macd",
        "macd_signal",
        "macd_hist",
        "bb_upper",
        "bb_middle",
        "bb_lower",
    } <= set(body["values"])


def test_as_of_uses_only_bars_up_to_that_day(loaded: Services, client: TestClient) -> None:
    body = client.post("/technical", json={"symbol": "ETH-USD", "as_of": "2022-06-30"}).json()
    truncated = loaded.prices.read("ETH-USD", "1d").loc[:"2022-06-30"]
    direct = TechnicalEngine().analyze(truncated, symbol="ETH-USD")
    assert body["as_of"].startswith("2022-06-30")
    assert body["values"]["close"] == pytest.approx(truncated["close"].iloc[-1], rel=1e-9)
    assert_same_values(body["values"], direct.model_dump(mode="json")["values"])


def test_hourly_bars_are_analysed(loaded: Services, client: TestClient) -> None:
    body = client.post("/technical", json={"symbol": "ETH", "interval": "1h"}).json()
    assert body["interval"] == "1h"
    assert body["bars_used"] == 300


def test_short_history_gives_null_with_a_reason(loaded: Services, client: TestClient) -> None:
    body = client.post("/technical", json={"symbol": "ETH-USD", "as_of": "2022-02-15"}).json()
    assert body["values"]["sma_200"] is None
    assert "200" in body["unavailable"]["sma_200"]


def test_unknown_indicator_is_422_listing_the_valid_ones(
    loaded: Services, client: TestClient
) -> None:
    res = client.post("/technical", json={"symbol": "ETH-USD", "indicators": ["rsi", "ichimoku"]})
    assert res.status_code == 422
    err = res.json()["error"]
    assert err["code"] == "unknown_indicator"
    assert err["details"]["unknown"] == ["ichimoku"]
    assert "macd" in err["details"]["valid"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"symbol": "NOPE"}, 404, "unknown_symbol"),
        ({"symbol": "BTC-USD"}, 404, "not_found"),
        ({"symbol": "ETH-USD", "as_of": "2019-01-01"}, 404, "not_found"),
        ({"symbol": "ETH-USD", "interval": "4h"}, 422, "validation_error"),
        ({"symbol": "ETH-USD", "params": {"rsi_period": 0}}, 422, "validation_error"),
        ({"symbol": "ETH-USD", "extra": 1}, 422, "validation_error"),
    ],
)
def test_bad_requests_get_clear_errors(
    loaded: Services, client: TestClient, body: dict[str, object], status: int, code: str
) -> None:
    res = client.post("/technical", json=body)
    assert res.status_code == status
    assert res.json()["error"]["code"] == code


def test_reports_are_cached_per_symbol_as_of_and_parameters(
    loaded: Services, client: TestClient
) -> None:
    stats = loaded.cache.stats
    client.post("/technical", json={"symbol": "ETH-USD", "as_of": "2022-10-01"})
    hits = stats.hits
    again = client.post("/technical", json={"symbol": "eth", "as_of": "2022-10-01"})
    assert stats.hits == hits + 1
    other = client.post(
        "/technical", json={"symbol": "ETH-USD", "as_of": "2022-10-01", "params": {"rsi_period": 7}}
    )
    assert stats.hits == hits + 1  # different parameters: a different key
    assert "rsi_7" in other.json()["values"] and "rsi_14" in again.json()["values"]
