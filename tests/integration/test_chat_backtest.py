"""The chat answers backtest questions, asked in plain words, from the backtest tool: the
figures it quotes are the tool's, the answer is grounded and says what they mean."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.core import Services
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv


@pytest.fixture
def api(services: Services, tmp_path: Path) -> Iterator[TestClient]:
    from api.main import create_app

    for seed, name in ((3, "SOL-USD"), (4, "BTC-USD")):
        import_file(
            services.prices, write_csv(tmp_path, f"{name}.csv", synthetic_bars(1500, seed=seed))
        )
    with TestClient(create_app(services.settings, services)) as client:
        yield client


def _turn(api: TestClient, message: str, thread: str) -> dict:
    res = api.post("/chat", json={"message": message, "thread_id": thread})
    assert res.status_code == 200, res.text
    return res.json()


def test_does_the_macd_crossover_work_is_answered_with_the_backtest(api: TestClient) -> None:
    turn = _turn(api, "does the MACD crossover work for SOL?", "bt-macd")
    assert [t["name"] for t in turn["tools_used"]] == ["backtest_signal"]
    assert turn["tools_used"][0]["args"]["rule"] == "macd" and turn["grounded"]
    direct = api.post("/backtest", json={"symbol": "SOL-USD", "rule": "macd"}).json()
    week = direct["events"]["buy"][1]
    answer = turn["answer"]
    assert f"it fired {week['n']} times" in answer
    assert f"{week['hit_rate'] * 100:.0f}% of the time" in answer
    flat = direct["strategy"]["long_flat"]["total_return"]
    assert f"{flat * 100:+.2f}%" in answer and "buying and holding" in answer


def test_buying_on_every_death_cross_leads_with_that_side(api: TestClient) -> None:
    turn = _turn(api, "how would buying BTC on every death cross have done?", "bt-death")
    (call,) = turn["tools_used"]
    assert call["name"] == "backtest_signal" and call["args"]["rule"] == "death_cross"
    assert turn["grounded"]
    answer = turn["answer"]
    assert "**Sell side** (death cross" in answer and "**Buy side**" not in answer
    # a rare signal on a few years of bars: said plainly, with no invented figures
    direct = api.post("/backtest", json={"symbol": "BTC-USD", "rule": "death_cross"}).json()
    if not direct["events"]["sell"][1]["enough"]:
        assert "not enough history" in answer


def test_forecast_accuracy_questions_stay_with_the_forecasts(api: TestClient) -> None:
    turn = _turn(api, "how accurate were your BTC forecasts?", "bt-acc")
    assert "backtest_signal" not in [t["name"] for t in turn["tools_used"]]
