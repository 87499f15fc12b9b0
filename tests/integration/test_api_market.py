"""The API skeleton against real Postgres: root, health, coins, history, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.core import Services
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv


@pytest.fixture
def loaded(services: Services, tmp_path: Path) -> Services:
    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", synthetic_bars(120)))
    return services


def test_root_lists_the_endpoints_and_docs(client: TestClient) -> None:
    body = client.get("/").json()
    assert body["docs"] == "/docs"
    assert "GET /historical-data/{symbol}" in body["endpoints"]
    assert "GET /health" in body["endpoints"]
    assert client.get("/docs").status_code == 200


def test_health_is_ok_with_postgres_and_local_cache(client: TestClient) -> None:
    res = client.get("/health")
    assert res.status_code == 200
    body = res.json()
    assert body["status"] == "ok"
    assert body["checks"]["postgres"]["ok"] is True


def test_historical_data_returns_the_stored_rows(loaded: Services, client: TestClient) -> None:
    bars = synthetic_bars(120)
    res = client.get(
        "/historical-data/bitcoin", params={"start": "2022-03-01", "end": "2022-03-10"}
    )
    assert res.status_code == 200
    body = res.json()
    assert (body["symbol"], body["interval"], body["source"]) == ("BTC-USD", "1d", "csv")
    assert [r["date"] for r in body["rows"]][:2] == ["2022-03-01", "2022-03-02"]
    assert len(body["rows"]) == 10
    assert body["rows"][0]["close"] == pytest.approx(bars.loc["2022-03-01", "close"], rel=1e-9)
    # synthetic data ends in 2022: it is served, and said to be stale
    assert body["freshness"]["stale"] is True


def test_cryptocurrencies_show_stored_coverage(loaded: Services, client: TestClient) -> None:
    coins = {c["symbol"]: c for c in client.get("/cryptocurrencies").json()}
    assert len(coins) >= 15
    assert coins["BTC-USD"]["rows"] == 120
    assert coins["BTC-USD"]["first_date"] == "2022-01-01"
    assert coins["ETH-USD"]["rows"] == 0 and coins["ETH-USD"]["first_date"] is None


def test_unknown_symbol_is_404_naming_the_supported_ones(client: TestClient) -> None:
    res = client.get("/historical-data/NOTACOIN")
    assert res.status_code == 404
    err = res.json()["error"]
    assert err["code"] == "unknown_symbol"
    assert "BTC-USD" in err["message"] and "ETH-USD" in err["details"]["supported"]


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2024-13-01"},
        {"end": "yesterday"},
        {"start": "2024-02-01", "end": "2024-01-01"},
        {"interval": "5m"},
    ],
)
def test_malformed_dates_and_ranges_are_422(client: TestClient, params: dict[str, str]) -> None:
    res = client.get("/historical-data/BTC-USD", params=params)
    assert res.status_code == 422
    assert set(res.json()["error"]) == {"code", "message", "details"}


def test_known_symbol_without_data_says_so(client: TestClient) -> None:
    res = client.get("/historical-data/DOGE-USD")
    assert res.status_code == 404
    assert "No 1d data stored for DOGE-USD" in res.json()["error"]["message"]
