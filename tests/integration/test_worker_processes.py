"""Workers as real processes (`crypto-assistant worker`) on one database: a worker killed with
SIGKILL mid-training loses nothing (the job is retried and completes, the registry holds no
half-written version); two APIs answer the same for a job; a periodic task runs once per
period however many workers run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from agent.core import Services
from agent.operations_settings import SCHEDULE_DEFAULTS
from agent.settings import Settings
from api.main import create_app
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv
from tests.helpers import until

ADMIN = {"X-API-Key": "admin-key"}


def _worker_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """A worker's environment: this test's database, nothing scheduled but what is asked, no
    provider, no feeds reached, a fast training and quick stalled-job detection."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE", "DATA_HOME"))}
    env |= {name.upper(): "off" for name in SCHEDULE_DEFAULTS}
    env |= {
        "DATABASE_URL": database_url,
        "DATA_HOME": str(tmp_path / "var"),
        "MARKET_PROVIDER": "none",
        "LOAD_DATA_ON_START": "false",
        "WATCHLIST": "none",
        "FORECAST_EPOCHS": "3",
        "FORECAST_EVAL_DAYS": "60",
        "WORKER_HEARTBEAT_SECONDS": "0.5",
        "WORKER_STALLED_AFTER_SECONDS": "3",
        "LOG_FORMAT": "text",
    }
    return env | extra


@contextmanager
def _workers(env: dict[str, str], tmp_path: Path, n: int = 1) -> Iterator[list[Any]]:
    """`n` worker processes, stopped (SIGTERM, then SIGKILL) at the end."""
    procs = []
    for i in range(n):
        log = (tmp_path / f"worker-{time.monotonic_ns()}-{i}.log").open("wb")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "cli.main", "worker"],
                env=env,
                cwd=tmp_path,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _services(make_settings: Callable[..., Settings], tmp_path: Path) -> Services:
    services = Services.build(make_settings(admin_api_key="admin-key"))
    bars = synthetic_bars(400, seed=11)
    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", bars))
    return services


def _stage(services: Services, job_id: str) -> str:
    return str((services.jobs.get(job_id).progress or {}).get("stage") or "")


@pytest.mark.timeout(500)
def test_a_stopped_or_killed_worker_leaves_its_training_to_another_that_completes_it(
    make_settings: Callable[..., Settings], database_url: str, tmp_path: Path
) -> None:
    """SIGTERM mid-training: the worker gives the job back and exits within seconds. SIGKILL
    in the final fit: the job waits until the dead worker's heartbeat is old, then another
    worker runs it to the end. The registry holds one complete version; the half-written
    folder a kill during the save would leave is removed, never registered."""
    services = _services(make_settings, tmp_path)
    env = _worker_env(database_url, tmp_path, JOB_MAX_ATTEMPTS="5")
    try:
        job = services.jobs.train("BTC-USD")
        with _workers(env, tmp_path) as (first,):
            until(lambda: "walk-forward" in _stage(services, job.id), 180, "training")
            stopped_at = time.monotonic()
            first.send_signal(signal.SIGTERM)
            assert first.wait(timeout=60) == 0
        assert time.monotonic() - stopped_at < 30  # not the whole training
        given_back = services.jobs.get(job.id)
        assert given_back.status == "queued" and "WorkerStopping" in (given_back.error or "")

        with _workers(env, tmp_path) as (second,):
            until(lambda: "final fit" in _stage(services, job.id), 180, "the final fit")
            second.send_signal(signal.SIGKILL)
            second.wait(timeout=10)
        killed = services.jobs.get(job.id)
        assert killed.status == "running"  # nobody finished it, nobody will say so but a worker
        assert services.training.registry.versions("BTC-USD") == []
        # what a kill during the save leaves behind: a folder under its `.partial` name
        half = services.training.model_dir / "BTC-USD" / "20260101T000000-dead00.partial"
        half.mkdir(parents=True)
        (half / "model.keras.partial.keras").write_bytes(b"half a model")

        with _workers(env, tmp_path):  # a new worker: the job is noticed, run again, finished
            done = until(
                lambda: (j := services.jobs.get(job.id)).status in ("succeeded", "failed") and j,
                240,
                "the retried training",
            )
        assert done.status == "succeeded", done
        assert done.attempts == 3 and done.result["version"] == 1  # given back, lost, done
        versions = services.training.registry.versions("BTC-USD")
        assert [(v.version, v.status) for v in versions] == [(1, "champion")]
        folder = Path(versions[0].artifact_path)
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            ["model.keras", "scaler.json", "meta.json"]
        )
        assert not half.exists() and not list(folder.parent.glob("*.partial"))
        with TestClient(create_app(services.settings, services, load_data=False)) as client:
            res = client.post("/forecast", json={"symbol": "BTC-USD", "horizon_days": 3})
            assert res.status_code == 200 and res.json()["model_version"] == "v1"
    finally:
        services.db.close()


@pytest.mark.timeout(400)
def test_two_apis_and_two_workers_share_jobs_and_run_each_period_once(
    make_settings: Callable[..., Settings], database_url: str, tmp_path: Path
) -> None:
    one = _services(make_settings, tmp_path)
    two = Services.build(make_settings(admin_api_key="admin-key"))
    env = _worker_env(database_url, tmp_path, SCHEDULE_BOOTSTRAP="* * * * * */2")
    try:
        with (
            TestClient(create_app(one.settings, one, load_data=False)) as api_one,
            TestClient(create_app(two.settings, two, load_data=False)) as api_two,
            _workers(env, tmp_path, n=2),
        ):
            started = time.monotonic()
            queued = api_one.post("/models/BTC-USD/train", headers=ADMIN)
            assert queued.status_code == 202
            url = queued.json()["status_url"]
            seen = set()
            while True:
                first = api_one.get(url, headers=ADMIN).json()
                second = api_two.get(url, headers=ADMIN).json()
                if first["status"] == second["status"]:  # one may be read mid-transition
                    seen.add(first["status"])
                if first == second and first["status"] in ("succeeded", "failed"):
                    break
                assert time.monotonic() - started < 300, first
                time.sleep(0.5)
            assert first["status"] == "succeeded" and "running" in seen
            listed = [api.get("/admin/jobs", headers=ADMIN).json() for api in (api_one, api_two)]
            assert listed[0] == listed[1]
            time.sleep(max(0.0, 12 - (time.monotonic() - started)))
        with psycopg.connect(database_url) as conn:
            runs = conn.execute(
                "SELECT args->>'timestamp', count(*) FROM procrastinate_jobs "
                "WHERE task_name = 'bootstrap' AND args ? 'timestamp' GROUP BY 1"
            ).fetchall()
        # a bootstrap every 2 s for at least 12 s, each period's job deferred once by the two
        # workers' schedulers together
        assert len(runs) >= 5 and all(count == 1 for _, count in runs), runs
    finally:
        one.db.close()
        two.db.close()
