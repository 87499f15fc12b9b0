"""The stance ledger on real Postgres: every live stance served is stored once per bar, counted,
scored by its forward returns once the later bars have closed, and read back in the chat."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest
from fastapi.testclient import TestClient

from agent.core import Services
from agent.services.stance_calls import stance_calls
from agent.services.worker_tasks import Runtime, score_ledger
from knowledge.market.csv_files import import_file
from knowledge.models.stance_ledger import StanceCall
from tests.factories import synthetic_bars, write_csv
from tools.indicators import TechnicalEngine

BARS = synthetic_bars(400, seed=11)  # 2022-01-01 .. 2023-02-04


def rows(services: Services) -> list[dict[str, Any]]:
    with services.db.connection() as conn:
        cur = conn.execute("SELECT * FROM stance_ledger ORDER BY symbol, interval, as_of")
        names = [d.name for d in cur.description or []]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def load(services: Services, tmp_path: Path, bars: pd.DataFrame, name: str = "ETH-USD") -> None:
    import_file(services.prices, write_csv(tmp_path, f"{name}.csv", bars))


def directional_cut(bars: pd.DataFrame, first: int, last: int) -> int:
    """The first bar count in [first, last) whose latest stance is not neutral."""
    engine = TechnicalEngine()
    for k in range(first, last):
        if engine.analyze(bars.iloc[:k], symbol="ETH-USD").summary.stance != "neutral":
            return k
    raise AssertionError("no directional stance in range")


@pytest.fixture
def exact(services: Services) -> Services:
    """Services whose recorder writes every serve (no batching), for exact counts."""
    assert services.technical.recorder is not None
    services.technical.recorder.flush_seconds = 0
    return services


def test_a_stance_served_three_times_is_one_row_counted_three_times(
    exact: Services, client: TestClient, tmp_path: Path
) -> None:
    load(exact, tmp_path, BARS.iloc[:300])
    bodies = [client.post("/technical", json={"symbol": "eth"}).json() for _ in range(3)]
    assert len({b["summary"]["stance"] for b in bodies}) == 1
    (row,) = rows(exact)
    last = BARS.index[299]
    assert (row["symbol"], row["interval"], row["as_of"]) == ("ETH-USD", "1d", last)
    assert row["stance"] == bodies[0]["summary"]["stance"]
    assert row["score"] == pytest.approx(bodies[0]["summary"]["score"])
    assert row["close"] == pytest.approx(BARS["close"].iloc[299])
    assert row["served_count"] == 3 and row["return_1d"] is None

    # a pinned as_of at/after the latest bar is the same live call; an older one, a subset of
    # indicators or other parameters are not recorded
    client.post("/technical", json={"symbol": "ETH-USD", "as_of": "2030-01-01"})
    client.post("/technical", json={"symbol": "ETH-USD", "as_of": "2022-06-30"})
    client.post("/technical", json={"symbol": "ETH-USD", "indicators": ["rsi"]})
    (row,) = rows(exact)
    assert row["served_count"] == 4


def test_the_chat_tool_path_records_too_and_batches_by_default(
    services: Services, tmp_path: Path
) -> None:
    import anyio

    load(services, tmp_path, BARS.iloc[:300])

    async def serve() -> None:
        for _ in range(5):
            await services.technical.report("ETH-USD")

    anyio.run(serve)
    (row,) = rows(services)
    assert row["served_count"] == 1  # the others are counted in memory until the next write
    assert services.technical.recorder is not None
    anyio.run(services.technical.recorder.flush)
    assert rows(services)[0]["served_count"] == 5


def test_simultaneous_requests_give_one_row_with_every_serve_counted(
    exact: Services, client: TestClient, tmp_path: Path
) -> None:
    load(exact, tmp_path, BARS.iloc[:300])
    with ThreadPoolExecutor(16) as pool:
        codes = list(
            pool.map(
                lambda _: client.post("/technical", json={"symbol": "ETH"}).status_code, range(32)
            )
        )
    assert codes == [200] * 32
    (row,) = rows(exact)
    assert row["served_count"] == 32


def test_simultaneous_upserts_of_a_new_call_from_many_replicas(exact: Services) -> None:
    call = StanceCall("BTC-USD", "1d", datetime(2024, 1, 1, tzinfo=UTC), "bearish", -0.3, 42000.0)
    ledger = exact.forecasts.stances
    assert ledger is not None
    start = threading.Barrier(8)

    def write(_: int) -> int:
        start.wait()
        return ledger.record([(call, 2)])

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(write, range(8))) == [1] * 8
    (row,) = rows(exact)
    assert row["served_count"] == 16 and row["stance"] == "bearish"


def test_a_failing_ledger_write_does_not_fail_the_request(
    exact: Services, client: TestClient, tmp_path: Path
) -> None:
    load(exact, tmp_path, BARS.iloc[:300])
    with exact.db.connection() as conn:
        conn.execute("ALTER TABLE stance_ledger RENAME TO stance_ledger_away")
    try:
        res = client.post("/technical", json={"symbol": "ETH-USD"})
        assert res.status_code == 200 and res.json()["summary"]["stance"]
        again = client.post("/technical", json={"symbol": "ETH-USD"})  # the cached bytes
        assert again.status_code == 200 and again.content == res.content
    finally:
        with exact.db.connection() as conn:
            conn.execute("ALTER TABLE stance_ledger_away RENAME TO stance_ledger")
    assert rows(exact) == []  # nothing written, nothing raised; the counts wait for a retry


def test_a_call_on_day_d_is_scored_once_d1_and_d7_have_closed(
    exact: Services, client: TestClient, tmp_path: Path
) -> None:
    cut = directional_cut(BARS, 300, 340)
    load(exact, tmp_path, BARS.iloc[:cut])
    served = client.post("/technical", json={"symbol": "ETH-USD"}).json()
    stance = served["summary"]["stance"]
    day = BARS.index[cut - 1]
    ledger = exact.forecasts.stances
    assert ledger is not None

    load(exact, tmp_path, BARS)  # the later bars arrive
    close = BARS["close"]
    ret = {h: close.loc[day + timedelta(days=h)] / close.loc[day] - 1 for h in (1, 7, 30)}

    # point in time: the D+1 bar is stored but has not closed yet
    assert ledger.score(now=day + timedelta(days=1, hours=23)) == 0
    assert ledger.score(now=day + timedelta(days=8)) == 2  # D+1 and D+7 closed, D+30 not
    (row,) = rows(exact)
    assert row["return_1d"] == pytest.approx(ret[1]) and row["return_7d"] == pytest.approx(ret[7])
    assert row["return_30d"] is None

    calls = stance_calls(ledger, "ETH-USD", 30, now=day + timedelta(days=8))
    side = "bullish" if "bullish" in stance else "bearish"
    right = (lambda r: r > 0) if side == "bullish" else (lambda r: r < 0)
    scored = calls["sides"][side]
    assert scored["calls"] == 1 and calls["scored"] == 1
    assert scored["horizons"]["1"] == {
        "n": 1,
        "hit_rate": 1.0 if right(ret[1]) else 0.0,
        "mean_return": pytest.approx(ret[1], abs=1e-6),
    }
    assert scored["horizons"]["7"]["hit_rate"] == (1.0 if right(ret[7]) else 0.0)
    assert scored["horizons"]["30"]["n"] == 0
    assert calls["base"]["1"]["n"] > 0 and calls["latest"][0]["stance"] == stance

    # the worker's task scores the rest; later bars change nothing already scored
    result = score_ledger(Runtime(exact, exact.jobs), 0)
    assert result["stances_scored"] == 1
    later = synthetic_bars(60, seed=99, start=str((BARS.index[-1] + timedelta(days=1)).date()))
    load(exact, tmp_path, later, name="ETH-USD")
    assert ledger.score() == 0
    (final,) = rows(exact)
    assert final["return_30d"] == pytest.approx(ret[30])
    assert {k: final[k] for k in ("stance", "score", "close", "return_1d", "return_7d")} == {
        k: row[k] for k in ("stance", "score", "close", "return_1d", "return_7d")
    }


def test_the_chat_quotes_the_scored_calls_and_is_grounded(
    exact: Services, client: TestClient, tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    bars = synthetic_bars(300, seed=5, start=str(today - timedelta(days=300)), price=3000.0)
    cut = directional_cut(bars, 280, 292)  # a bar 21 to 9 days ago
    load(exact, tmp_path, bars.iloc[:cut])
    stance = client.post("/technical", json={"symbol": "ETH-USD"}).json()["summary"]["stance"]
    load(exact, tmp_path, bars)
    day = bars.index[cut - 1]
    r1 = bars["close"].loc[day + timedelta(days=1)] / bars["close"].loc[day] - 1

    res = client.post("/chat", json={"message": "how good were your buy and sell calls on ETH?"})
    body = res.json()
    assert res.status_code == 200 and body["grounded"] is True, body
    assert [t["name"] for t in body["tools_used"]] == ["forecast_accuracy"]
    answer = body["answer"]
    assert "**Buy and sell calls**" in answer
    hit = (r1 > 0) if "bullish" in stance else (r1 < 0)
    assert f"after 1 day (1 scored) right {100.0 if hit else 0.0:.1f}%" in answer
    assert f"mean return {r1 * 100:+.2f}%" in answer
    assert date.fromisoformat(str(day.date())).isoformat() in answer

    metrics = client.get("/model-metrics/ETH-USD").json()
    assert metrics["calls"]["scored"] == 1


def test_nothing_scored_yet_is_said_plainly(
    exact: Services, client: TestClient, tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    load(exact, tmp_path, synthetic_bars(300, seed=5, start=str(today - timedelta(days=300))))
    client.post("/technical", json={"symbol": "ETH-USD"})
    body = client.post("/chat", json={"message": "how good were your buy and sell calls on ETH?"})
    answer = body.json()["answer"]
    assert "no scored calls yet: the first ones are scored 1 day after they are served" in answer
    assert body.json()["grounded"] is True


def test_the_ledger_table_refuses_bad_rows(exact: Services) -> None:
    with pytest.raises(psycopg.errors.CheckViolation), exact.db.connection() as conn:
        conn.execute(
            "INSERT INTO stance_ledger (symbol, interval, as_of, stance, score, close)"
            " VALUES ('ETH-USD', '1d', now(), 'very_bullish', 0.5, 1)"
        )
