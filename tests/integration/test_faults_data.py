"""Faults of the data sources, as a user sees them: the market-data provider failing or hanging,
a model artifact that is garbage, a process killed in the middle of a CSV import."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.core import Services
from agent.settings import Settings
from api.main import create_app
from knowledge.market.csv_files import import_file
from knowledge.market.yahoo import YFinanceProvider
from tests.factories import synthetic_bars, write_csv
from tests.fakes.yahoo_server import FakeYahoo
from tests.helpers import running_worker, wait_job
from tools.forecast import ForecastConfig

ROOT = Path(__file__).resolve().parents[2]
ADMIN_KEY = "admin-key"
ADMIN = {"X-API-Key": ADMIN_KEY}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("trouble", ["http_500", "hang"])
def test_a_failing_provider_keeps_stored_data_served_marked_stale_with_the_reason(
    make_settings: Callable[..., Settings], trouble: str
) -> None:
    """Refresh works once; then Yahoo answers 500 or hangs past the timeout: the stored bars are
    still served by the API (stale, with the reason), the chat says so, nothing hangs."""
    with FakeYahoo() as yahoo:
        provider = YFinanceProvider(
            session=yahoo.session(), timeout=1.0, retries=1, sleep=lambda s: None
        )
        services = Services.build(make_settings(admin_api_key="admin-key"), provider=provider)
        try:
            with (
                TestClient(create_app(services.settings, services)) as client,
                running_worker(services),
            ):
                start = client.post(
                    "/admin/market/refresh", json={"symbols": ["BTC-USD"]}, headers=ADMIN
                )
                done = wait_job(client, start.json()["status_url"], ADMIN_KEY)
                assert done["result"][0]["ok"] is True
                fresh = client.get("/historical-data/BTC-USD").json()
                stored = len(fresh["rows"])
                assert stored == len(yahoo.bars("BTC-USD", "1d"))
                assert fresh["freshness"]["stale"] is False

                if trouble == "hang":
                    yahoo.hang(seconds=60)
                else:
                    yahoo.fail_always(500)
                started = time.monotonic()
                start = client.post(
                    "/admin/market/refresh", json={"symbols": ["btc"]}, headers=ADMIN
                )
                job = wait_job(client, start.json()["status_url"], ADMIN_KEY)
                # 2 attempts x (timeout 1 s + yfinance's own re-send): bounded, not 60 s
                assert time.monotonic() - started < 20
                (result,) = job["result"]
                assert job["status"] == "succeeded" and result["ok"] is False

                res = client.get("/historical-data/BTC-USD")
                assert res.status_code == 200
                body = res.json()
                assert len(body["rows"]) == stored  # nothing lost, nothing half-written
                assert body["freshness"]["stale"] is True
                assert body["freshness"]["reason"] == f"refresh failed: {result['message']}"
                assert body["freshness"]["last_bar"] == fresh["freshness"]["last_bar"]

                (series,) = [
                    d
                    for d in client.get("/system-status").json()["data"]
                    if (d["symbol"], d["interval"]) == ("BTC-USD", "1d")
                ]
                assert series["stale"] is True and series["reason"] == body["freshness"]["reason"]

                chat = client.post(
                    "/chat", json={"message": "What's BTC at?", "thread_id": "stale"}
                )
                assert chat.status_code == 200
                answer = chat.json()["answer"]
                assert "not current" in answer and "refresh failed" in answer
                assert chat.json()["tools_used"][0]["result"]["stale"] is True

                yahoo.heal()  # the provider comes back: the next refresh clears the flag
                start = client.post(
                    "/admin/market/refresh", json={"symbols": ["btc"]}, headers=ADMIN
                )
                done = wait_job(client, start.json()["status_url"], ADMIN_KEY)
                assert done["result"][0]["ok"] is True
                assert client.get("/historical-data/BTC-USD").json()["freshness"]["stale"] is False
        finally:
            services.db.close()


TINY = ForecastConfig(window=10, units=(8,), epochs=2, patience=1, horizon=30, batch_size=32)


@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("model.keras", "model.keras is corrupt"),
        ("meta.json", "meta.json is corrupt"),
        ("folder", "the artifact folder does not exist"),
    ],
)
def test_a_garbage_model_artifact_is_503_naming_it_and_the_champion_stays(
    services: Services, tmp_path: Path, damage: str, message: str
) -> None:
    services.training.config = TINY
    services.training.eval_days = 30
    services.training.model_dir = tmp_path / "models"
    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", synthetic_bars(300, seed=5)))
    trained = services.training.train("BTC-USD")
    assert trained.promoted
    champion = services.training.registry.champion("BTC-USD")
    assert champion is not None
    versions = [(v.version, v.status) for v in services.training.registry.versions("BTC-USD")]
    folder = Path(champion.artifact_path)
    if damage == "folder":
        for part in folder.iterdir():
            part.unlink()
        folder.rmdir()
    else:
        (folder / damage).write_bytes(os.urandom(512))  # exists, but is garbage

    with TestClient(create_app(services.settings, services, load_data=False)) as client:
        services.forecasts._warm.clear()  # as after a restart: the model must be read again
        res = client.post("/forecast", json={"symbol": "BTC-USD", "horizon_days": 3})
        assert res.status_code == 503
        error = res.json()["error"]
        assert error["code"] == "model_unavailable"
        assert "BTC-USD model v1 cannot be loaded" in error["message"]
        assert message in error["message"]
        assert "Traceback" not in res.text and str(folder) not in res.text  # no server paths
        # the registry is untouched: same champion, same versions
        assert services.training.registry.champion("BTC-USD") == champion
        after = [(v.version, v.status) for v in services.training.registry.versions("BTC-USD")]
        assert after == versions
        assert client.get("/model-metrics/BTC-USD").json()["champion"] == "v1"
        chat = client.post("/chat", json={"message": "forecast BTC for the next week"})
        assert chat.status_code == 200
        answer = chat.json()["answer"]
        assert f"cannot be loaded ({message}" in answer and str(folder) not in answer


_CRASHING_IMPORT = """
import os, sys
from knowledge.database import Database
from knowledge.market import csv_files
from knowledge.market.repository import PriceRepository

real_upsert = PriceRepository.upsert

def upsert_then_die(self, *args, **kwargs):
    result = real_upsert(self, *args, **kwargs)  # rows are in the open transaction
    print("written", result.written, flush=True)
    os._exit(17)  # the process dies before the commit: no cleanup, no rollback sent

PriceRepository.upsert = upsert_then_die
db = Database(sys.argv[1])
db.open()
csv_files.import_file(PriceRepository(db), csv_files.Path(sys.argv[2]))
"""


@pytest.mark.timeout(120)
def test_a_process_killed_during_an_import_leaves_nothing_half_written(
    services: Services, tmp_path: Path
) -> None:
    bars = synthetic_bars(200, seed=9)
    path = write_csv(tmp_path, "LINK-USD.csv", bars)
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_CRASHING_IMPORT), services.dsn, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode == 17, proc.stderr
    assert "written 200" in proc.stdout  # the crash came after the rows were sent

    assert services.prices.read("LINK-USD", "1d").empty
    with services.db.connection() as conn:
        recorded = conn.execute("SELECT count(*) FROM data_imports").fetchone()
    assert recorded == (0,)  # the file is not remembered as imported...
    again = import_file(services.prices, path)  # ...so importing it again is not skipped
    assert not again.skipped and again.written == 200
    assert len(services.prices.read("LINK-USD", "1d")) == 200
