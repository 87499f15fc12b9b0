"""Postgres stopped under a running app: every concurrent request gets its 503 within the
database timeout, and chat works again once Postgres is back, without restarting the app."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agent.core import Services
from agent.settings import Settings
from api.main import create_app
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv
from tests.helpers import timed

DB_TIMEOUT = 2.0
CHATS = 30
READS = 10


@pytest.mark.timeout(180)
def test_concurrent_requests_fail_fast_with_postgres_down_and_chat_recovers(
    private_postgres: Any, private_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = private_settings(
        db_timeout_seconds=DB_TIMEOUT,
        rate_limit_data_per_minute=100_000,
        rate_limit_chat_per_minute=100_000,
    )
    services = Services.build(settings)
    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", synthetic_bars(120)))
    try:
        with TestClient(create_app(settings, services)) as client:
            chat = {"message": "what is BTC at?", "thread_id": "down"}
            assert client.post("/chat", json=chat).status_code == 200

            private_postgres.stop()
            # thirty people at once (each its own key, so each its own client and principal)
            calls: list[Callable[[], Any]] = [
                lambda i=i: client.post(  # type: ignore[misc]
                    "/chat",
                    json={"message": "what is BTC at?", "thread_id": f"d{i}"},
                    headers={"X-API-Key": f"user-{i}"},
                )
                for i in range(CHATS)
            ] + [
                lambda: client.get("/historical-data/BTC-USD", params={"start": "2022-02-01"})
                for _ in range(READS)
            ]
            with ThreadPoolExecutor(len(calls)) as pool:
                answers = list(pool.map(timed, calls))
            took = sorted(t for _, t in answers)
            print(f"\n503 timings: min {took[0]:.2f}s, max {took[-1]:.2f}s")
            for res, seconds in answers:
                assert res.status_code == 503, res.text
                assert res.json()["error"]["code"] == "database_unavailable"
                assert seconds < DB_TIMEOUT + 1.0, f"{res.request.url} took {seconds:.1f}s"

            with private_postgres._lock:  # start again on the same folder and socket
                private_postgres.ensure_postgres_running()
            deadline = time.monotonic() + 20
            while True:
                res = client.post("/chat", json=chat)
                if res.status_code == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert res.status_code == 200, res.text
            assert "BTC-USD" in res.json()["answer"]
            history = client.post("/chat", json={**chat, "message": "and ETH?"})
            assert history.status_code == 200
    finally:
        services.db.close()
