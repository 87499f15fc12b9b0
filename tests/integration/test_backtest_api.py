"""POST /backtest against real Postgres: figures a user can check by hand, point in time, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from agent.core import Services
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv
from tests.helpers import assert_error_shape

BARS = synthetic_bars(500, seed=23)  # 2022-01-01 .. 2023-05-15


@pytest.fixture
def loaded(services: Services, tmp_path: Path) -> Services:
    import_file(services.prices, write_csv(tmp_path, "ETH-USD.csv", BARS))
    hourly = synthetic_bars(400, seed=5, freq="h", start="2023-01-01")
    import_file(services.prices, write_csv(tmp_path, "ETH-USD_1h.csv", hourly))
    return services


def _day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text[:10], tz="UTC")


def test_buy_and_hold_and_the_equity_curve_match_the_stored_prices(
    loaded: Services, client: TestClient
) -> None:
    body = {"symbol": "ether", "start": "2022-09-01", "end": "2023-03-31", "fee_bps": 20}
    res = client.post("/backtest", json=body)
    assert res.status_code == 200, res.text
    report = res.json()
    assert report["symbol"] == "ETH-USD" and report["rule"] == "stance"
    assert report["horizon_days"] == [1, 7, 30]
    assert report["labels"]["buy"] and report["side"] is None
    for side in ("buy", "sell"):
        assert [s["horizon"] for s in report["events"][side]] == [1, 7, 30]
        for stats in report["events"][side]:
            assert stats["n"] >= 0
            if stats["enough"]:
                assert 0 <= stats["hit_rate"] <= 1 and 0 <= stats["base_hit_rate"] <= 1
                assert stats["ci_low"] <= stats["ci_high"]
            else:
                assert stats["hit_rate"] is None  # "not enough history": no figure invented
    strategy = report["strategy"]
    equity = strategy["equity"]
    dates = [_day(p["date"]) for p in equity]
    assert dates == sorted(dates)
    assert _day("2022-09-01") <= dates[0] and dates[-1] <= _day("2023-03-31")
    assert _day(report["start"]) >= _day("2022-09-01") and _day(report["end"]) == dates[-1]
    # bought at the open of the first bar held, sold at the last close, one entry's costs
    cost = (20 + 5) / 10_000
    entry = float(BARS.loc[dates[0], "open"])
    exit_ = float(BARS.loc[dates[-1], "close"])
    hold = strategy["buy_hold"]
    assert hold["total_return"] == pytest.approx((1 - cost) * exit_ / entry - 1, rel=1e-6)
    assert equity[-1]["buy_hold"] == pytest.approx(1 + hold["total_return"], rel=1e-9)
    assert equity[-1]["long_flat"] == pytest.approx(
        1 + strategy["long_flat"]["total_return"], rel=1e-9
    )
    assert strategy["beats_buy_hold"] == (
        strategy["long_flat"]["total_return"] > hold["total_return"]
    )
    assert hold["trades"] == 1 and hold["exposure"] == 1.0
    assert strategy["fee_bps"] == 20 and strategy["slippage_bps"] == 5


def test_end_cuts_the_data(loaded: Services, client: TestClient) -> None:
    full = client.post("/backtest", json={"symbol": "ETH-USD", "rule": "macd"}).json()
    cut = client.post(
        "/backtest", json={"symbol": "ETH-USD", "rule": "macd", "end": "2022-12-31"}
    ).json()
    assert _day(full["end"]) == BARS.index[-1]
    assert _day(cut["end"]) == _day("2022-12-31")
    assert all(_day(p["date"]) <= _day("2022-12-31") for p in cut["strategy"]["equity"])
    last_close = float(BARS.loc[_day("2022-12-31"), "close"])
    first_open = float(BARS.loc[_day(cut["strategy"]["equity"][0]["date"]), "open"])
    expected = (1 - 15 / 10_000) * last_close / first_open - 1
    assert cut["strategy"]["buy_hold"]["total_return"] == pytest.approx(expected, rel=1e-6)
    # a date-time end is an instant: the 2022-12-31 bar has not closed at noon that day
    noon = client.post(
        "/backtest", json={"symbol": "ETH-USD", "rule": "macd", "end": "2022-12-31T12:00:00Z"}
    ).json()
    assert _day(noon["end"]) == _day("2022-12-30")


def test_a_named_side_and_one_horizon(loaded: Services, client: TestClient) -> None:
    report = client.post(
        "/backtest", json={"symbol": "ETH", "rule": "death cross", "horizon_days": 10}
    ).json()
    assert report["rule"] == "ma_cross" and report["side"] == "sell"
    assert "death cross" in report["labels"]["sell"]
    assert report["horizon_days"] == [10]
    assert [s["horizon"] for s in report["events"]["sell"]] == [10]


def test_hourly_horizons_are_counted_in_days(loaded: Services, client: TestClient) -> None:
    report = client.post(
        "/backtest", json={"symbol": "ETH-USD", "interval": "1h", "horizon_days": 2}
    ).json()
    assert report["interval"] == "1h"
    assert report["events"]["buy"][0]["horizon"] == 48  # 2 days of hourly bars
    assert " " in report["strategy"]["equity"][0]["date"]  # hourly points carry the hour


def test_unknown_rule_is_422_listing_the_valid_names(loaded: Services, client: TestClient) -> None:
    res = client.post("/backtest", json={"symbol": "ETH-USD", "rule": "moon phase"})
    assert res.status_code == 422
    assert_error_shape(res)
    error = res.json()["error"]
    assert error["code"] == "unknown_rule"
    assert error["details"]["unknown"] == "moon phase"
    assert {"stance", "macd", "rsi", "golden_cross", "death_cross"} <= set(
        error["details"]["valid"]
    )


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"fee_bps": 1001}, 422, "validation_error"),
        ({"fee_bps": -1}, 422, "validation_error"),
        ({"slippage_bps": "5"}, 422, "validation_error"),
        ({"horizon_days": 0}, 422, "validation_error"),
        ({"horizon_days": 366}, 422, "validation_error"),
        ({"start": "2023-01-01", "end": "2022-06-01"}, 422, "invalid_request"),
        ({"start": "2023-13-01"}, 422, "validation_error"),
        ({"end": "1969-12-31"}, 422, "validation_error"),  # the as_of rule's date range
        ({"start": "2101-01-01T00:00:00Z"}, 422, "validation_error"),
        ({"interval": "4h"}, 422, "validation_error"),
        ({"extra": 1}, 422, "validation_error"),
        ({"rule": "x" * 65}, 422, "validation_error"),
        ({"symbol": "NOTACOIN"}, 404, "unknown_symbol"),
        ({"symbol": "SOL-USD"}, 404, "not_found"),  # supported, nothing stored
        ({"end": "2019-01-01"}, 404, "not_found"),  # nothing stored by then
    ],
)
def test_bad_requests_get_clear_errors(
    loaded: Services, client: TestClient, body: dict[str, Any], status: int, code: str
) -> None:
    res = client.post("/backtest", json={"symbol": "ETH-USD", **body})
    assert res.status_code == status, res.text
    assert_error_shape(res)
    assert res.json()["error"]["code"] == code


def test_unknown_symbol_names_the_supported_ones(loaded: Services, client: TestClient) -> None:
    error = client.post("/backtest", json={"symbol": "NOTACOIN"}).json()["error"]
    assert "BTC-USD" in str(error) and "ETH-USD" in str(error)


def test_the_route_is_listed_and_documented(client: TestClient) -> None:
    assert "POST /backtest" in client.get("/").json()["endpoints"]
    operation = client.get("/openapi.json").json()["paths"]["/backtest"]["post"]
    assert "$ref" in str(operation["responses"]["200"]["content"])
