"""The forecasting lifecycle on real Postgres with a tiny model: 409 before training, training
with walk-forward evaluation, promotion rule, serving, the ledger, broken artifacts, chat."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from agent.services import Services
from api.main import create_app
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv
from tools.forecast import ForecastConfig

TINY = ForecastConfig(window=10, units=(8,), epochs=3, patience=1, horizon=30, batch_size=32)
BARS = synthetic_bars(420, seed=5, start="2022-01-01")


@pytest.fixture
def forecasting(services: Services, tmp_path: Path) -> Iterator[tuple[Services, TestClient]]:
    services.training.config = TINY
    services.training.eval_days = 60
    services.training.model_dir = tmp_path / "models"
    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", BARS.iloc[:400]))
    with TestClient(create_app(services.settings, services, load_data=False)) as client:
        yield services, client


def test_forecast_before_any_training_is_409_naming_the_command(
    forecasting: tuple[Services, TestClient],
) -> None:
    _, client = forecasting
    res = client.post("/forecast", json={"symbol": "btc", "horizon_days": 7})
    assert res.status_code == 409
    assert "crypto-assistant models train BTC-USD" in res.json()["error"]["message"]
    assert client.post("/forecast", json={"symbol": "btc", "horizon_days": 31}).status_code == 422


def test_train_serve_score_and_promotion_rule(
    forecasting: tuple[Services, TestClient], tmp_path: Path
) -> None:
    services, client = forecasting
    first = services.training.train("BTC-USD")
    assert (first.version, first.promoted) == (1, True)
    window = services.training.registry.get("BTC-USD", 1).eval_window
    assert (window["start"], window["end"]) == ("2022-12-07", "2023-02-04")
    h1 = first.metrics["1"]
    assert h1["n"] == 60 and h1["skill"] == pytest.approx(1 - h1["mae"] / h1["naive_mae"])

    body = client.post("/forecast", json={"symbol": "BTC-USD", "horizon_days": 7}).json()
    assert body["model_version"] == "v1" and body["as_of"] == "2023-02-04"
    assert [p["date"] for p in body["predictions"]][:2] == ["2023-02-05", "2023-02-06"]
    assert len(body["predictions"]) == 7
    assert all(p["lower"] <= p["price"] <= p["upper"] for p in body["predictions"])
    assert body["baseline"]["name"] == "naive" and body["metrics_horizon"] == 7
    assert body["skill_vs_naive"] == pytest.approx(first.metrics["7"]["skill"])
    assert body["has_skill"] is (body["skill_vs_naive"] > 0)

    # the same data and seed give the same metrics: not better, so not promoted
    second = services.training.train("BTC-USD")
    assert second.metrics == first.metrics
    assert (second.version, second.promoted) == (2, False)
    assert "does not beat champion v1" in second.reason
    metrics = client.get("/model-metrics/btc").json()
    assert metrics["champion"] == "v1"
    assert [(v["version"], v["status"]) for v in metrics["versions"]] == [
        (2, "candidate"),
        (1, "champion"),
    ]
    assert metrics["ledger"]["n"] == 0 and metrics["ledger"]["pending"] == 7

    # the actual closes arrive: the served forecast is scored
    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", BARS.iloc[:405]))
    ledger = client.get("/model-metrics/BTC-USD").json()["ledger"]
    assert ledger["n"] == 5 and ledger["pending"] == 2
    actual = BARS["close"].iloc[400:405].to_numpy()
    predicted = [p["price"] for p in body["predictions"][:5]]
    expected = sum(abs(p - a) / a for p, a in zip(predicted, actual, strict=True)) / 5 * 100
    assert ledger["mape_realized"] == pytest.approx(expected, rel=1e-3)


def test_a_missing_artifact_is_503_and_the_champion_stays(
    forecasting: tuple[Services, TestClient],
) -> None:
    services, client = forecasting
    services.training.train("BTC-USD")
    champion = services.training.registry.champion("BTC-USD")
    assert champion is not None
    services.forecasts._warm.clear()
    shutil.rmtree(champion.artifact_path)
    res = client.post("/forecast", json={"symbol": "BTC-USD", "horizon_days": 3})
    assert res.status_code == 503
    assert "cannot be loaded" in res.json()["error"]["message"]
    assert services.training.registry.champion("BTC-USD") == champion


def test_admin_training_runs_in_the_background(forecasting: tuple[Services, TestClient]) -> None:
    services, client = forecasting
    assert client.post("/models/BTC-USD/train").status_code == 401
    services.settings.admin_api_key = SecretStr("admin-key")
    no_data = client.post("/models/eth/train", headers={"X-API-Key": "admin-key"})
    assert no_data.status_code == 404  # refused at once, not a job bound to fail
    assert "No daily data stored for ETH-USD" in no_data.json()["error"]["message"]
    res = client.post("/models/btc/train", headers={"X-API-Key": "admin-key"})
    assert res.status_code == 202
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = client.get(res.json()["status_url"], headers={"X-API-Key": "admin-key"}).json()
        if job["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.2)
    assert job["status"] == "succeeded", job
    assert job["result"]["version"] == 1 and job["result"]["promoted"] is True


async def test_the_chat_states_the_skill_and_the_track_record(
    forecasting: tuple[Services, TestClient],
) -> None:
    services, client = forecasting
    services.training.train("BTC-USD")
    answer = client.post("/chat", json={"message": "forecast BTC for the next week"}).json()
    assert answer["tools_used"][0]["name"] == "forecast_price"
    assert answer["tools_used"][0]["args"] == {"symbol": "BTC-USD", "horizon_days": 7}
    assert "Forecast for BTC-USD" in answer["answer"]
    assert ("no skill" in answer["answer"]) or ("beat the naive forecast" in answer["answer"])
    assert answer["grounded"] is True
    track = client.post(
        "/chat", json={"message": "how accurate were your BTC forecasts last month?"}
    ).json()
    assert track["tools_used"][0]["name"] == "forecast_accuracy"
    assert "Walk-forward backtest of v1" in track["answer"]
