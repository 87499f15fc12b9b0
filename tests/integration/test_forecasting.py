"""The forecasting lifecycle on real Postgres with a tiny model: 409 before training, training
with walk-forward evaluation, promotion rule, serving, the ledger, broken artifacts, chat."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from agent.core import Services
from agent.services.training import TrainProgress
from api.main import create_app
from knowledge.market.csv_files import import_file
from tests.factories import TINY_FORECAST, synthetic_bars, write_csv
from tests.helpers import running_worker, wait_job

TINY = TINY_FORECAST
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
    assert all(p["lower"] < p["price"] < p["upper"] for p in body["predictions"])
    widths = [p["upper"] - p["lower"] for p in body["predictions"]]
    assert widths[-1] > widths[0]  # the band widens with the horizon
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


def test_admin_training_runs_in_a_worker(forecasting: tuple[Services, TestClient]) -> None:
    """POST /models/{symbol}/train queues a job; a worker runs it; while it waits or runs, a
    forecast says it is being trained; a second request returns the waiting job."""
    services, client = forecasting
    assert client.post("/models/BTC-USD/train").status_code == 401
    services.settings.admin_api_key = SecretStr("admin-key")
    no_data = client.post("/models/eth/train", headers={"X-API-Key": "admin-key"})
    assert no_data.status_code == 404  # refused at once, not a job bound to fail
    assert "No daily data stored for ETH-USD" in no_data.json()["error"]["message"]
    res = client.post("/models/btc/train", headers={"X-API-Key": "admin-key"})
    assert res.status_code == 202
    again = client.post("/models/BTC-USD/train", headers={"X-API-Key": "admin-key"})
    assert again.json()["job_id"] == res.json()["job_id"]  # one waiting training per coin
    waiting = client.post("/forecast", json={"symbol": "BTC-USD", "horizon_days": 3})
    assert waiting.status_code == 409
    assert "queued for training since" in waiting.json()["error"]["message"]
    with running_worker(services):
        job = wait_job(client, res.json()["status_url"], "admin-key", 120)
    assert job["status"] == "succeeded", job
    assert job["result"]["version"] == 1 and job["result"]["promoted"] is True
    assert job["attempts"] == 1 and job["started_at"] <= job["finished_at"]
    assert (
        client.post("/forecast", json={"symbol": "BTC-USD", "horizon_days": 3}).status_code == 200
    )


# A deliberately poor first model: one epoch from another seed, raw (unshrunk) network output.
BAD = TINY.model_copy(update={"epochs": 1, "seed": 3, "shrinkage": 1.0})
# Shrinkage 0 is pure persistence: its horizon-1 MAE equals the naive baseline's, which a
# barely trained network on a random walk does not reach.
PERSISTENT = TINY.model_copy(update={"shrinkage": 0.0})


def _mae(text: str, marker: str) -> float:
    """The number printed right after `marker` in a promotion reason."""
    return float(text.split(marker, 1)[1].split()[0].rstrip(")"))


def test_a_better_candidate_on_the_same_window_is_promoted(
    forecasting: tuple[Services, TestClient],
) -> None:
    services, client = forecasting
    services.training.config = BAD
    first = services.training.train("BTC-USD")
    assert (first.version, first.promoted) == (1, True)
    services.training.config = PERSISTENT
    stages: list[str] = []
    second = services.training.train("BTC-USD", TrainProgress(on_stage=stages.append))
    v1, v2 = (services.training.registry.get("BTC-USD", v) for v in (1, 2))
    assert v1.eval_window == v2.eval_window  # same bars: the stored champion MAE is compared
    assert not any("re-evaluating" in s for s in stages), stages
    mae1, mae2 = first.metrics["1"]["mae"], second.metrics["1"]["mae"]
    assert mae2 == pytest.approx(second.metrics["1"]["naive_mae"])
    assert mae2 < mae1  # the premise: the candidate really is better
    assert (second.version, second.promoted) == (2, True)
    assert second.reason.startswith("beats champion v1: ")
    assert _mae(second.reason, "MAE ") == pytest.approx(mae2, rel=1e-5)
    assert _mae(second.reason, "< ") == pytest.approx(mae1, rel=1e-5)
    assert services.training.registry.champion("BTC-USD").version == 2  # type: ignore[union-attr]
    metrics = client.get("/model-metrics/btc").json()
    assert metrics["champion"] == "v2"
    statuses = {v["version"]: v["status"] for v in metrics["versions"]}
    assert statuses[2] == "champion" and statuses[1] != "champion"
    served = client.post("/forecast", json={"symbol": "BTC-USD", "horizon_days": 3}).json()
    assert served["model_version"] == "v2"


def test_on_a_new_window_the_champion_is_re_evaluated_on_it(
    forecasting: tuple[Services, TestClient], tmp_path: Path
) -> None:
    services, _ = forecasting
    services.training.config = BAD
    first = services.training.train("BTC-USD")
    assert first.promoted is True
    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", BARS))  # 20 more days
    services.training.config = PERSISTENT
    stages: list[str] = []
    second = services.training.train("BTC-USD", TrainProgress(on_stage=stages.append))
    v1, v2 = (services.training.registry.get("BTC-USD", v) for v in (1, 2))
    assert (v1.eval_window["end"], v2.eval_window["end"]) == ("2023-02-04", "2023-02-24")
    assert "BTC-USD: re-evaluating champion v1 on the same window" in stages
    # the champion's own configuration, walked forward on the candidate's window
    rescored = services.training.evaluate(
        "BTC-USD", v2.eval_window["start"], v2.eval_window["end"], config=BAD
    ).metrics_for(1)
    assert rescored.mae != pytest.approx(first.metrics["1"]["mae"])  # a different score
    assert second.metrics["1"]["mae"] < rescored.mae
    assert (second.version, second.promoted) == (2, True)
    assert second.reason.startswith("beats champion v1: ")
    assert _mae(second.reason, "< ") == pytest.approx(rescored.mae, rel=1e-5)
    assert services.training.registry.champion("BTC-USD").version == 2  # type: ignore[union-attr]


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
    # the verdict must match the sign of the champion's recorded 7-day skill, and quote it
    champion = services.training.registry.champion("BTC-USD")
    assert champion is not None
    skill = champion.metrics["7"]["skill"]
    verdicts = ["no skill", "beat the naive forecast"]
    said, unsaid = verdicts if skill <= 0 else verdicts[::-1]
    assert said in answer["answer"] and unsaid not in answer["answer"], (skill, answer["answer"])
    assert f"skill {skill:+.3f}" in answer["answer"]
    assert answer["grounded"] is True
    track = client.post(
        "/chat", json={"message": "how accurate were your BTC forecasts last month?"}
    ).json()
    assert track["tools_used"][0]["name"] == "forecast_accuracy"
    assert "Walk-forward backtest of v1" in track["answer"]
