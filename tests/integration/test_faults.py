"""Faults of the foundation, as a user sees them: Redis killed under load and started again,
Postgres stopped and started again under a running app."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from agent.core import Services
from agent.offline import formatting as fmt
from agent.settings import Settings
from api.main import create_app
from knowledge.database import RECONNECT_SECONDS
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv
from tests.helpers import timed
from tests.servers import RedisProcess

BARS = synthetic_bars(120, seed=3)
DATES = [d.strftime("%Y-%m-%d") for d in BARS.index[:40]]
OUTAGE_SECONDS = 12.0


def _wait_for(check: Callable[[], bool], limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} within {limit}s")


def _cache_hits(client: TestClient) -> float:
    text = client.get("/metrics").text
    found = re.search(r'^cache_operations_total\{outcome="hits"\} (\S+)$', text, re.M)
    assert found is not None, text
    return float(found.group(1))


class Load:
    """Worker threads reading history through the app until stopped; every answer is kept."""

    def __init__(self, client: TestClient, workers: int = 4) -> None:
        self.client = client
        self.workers = workers
        self.answers: list[tuple[float, int, float, bool]] = []  # (at, status, seconds, rows ok)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(workers)
        self._futures: list[Any] = []

    def _work(self, worker: int) -> None:
        n = worker
        while not self._stop.is_set():
            start = DATES[n % len(DATES)]
            n += self.workers
            began = time.monotonic()
            res = self.client.get("/historical-data/BTC-USD", params={"start": start})
            took = time.monotonic() - began
            rows_ok = res.status_code == 200 and res.json()["rows"][0]["date"] == start
            with self._lock:
                self.answers.append((began, res.status_code, took, rows_ok))

    def __enter__(self) -> Load:
        self._futures = [self._pool.submit(self._work, i) for i in range(self.workers)]
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for future in self._futures:
            future.result(timeout=30)
        self._pool.shutdown()

    def between(self, start: float, end: float) -> list[tuple[float, int, float, bool]]:
        with self._lock:
            return [a for a in self.answers if start <= a[0] <= end]


@pytest.mark.timeout(120)
def test_redis_killed_under_load_answers_continue_and_the_cache_comes_back(
    make_settings: Callable[..., Settings], redis_server: RedisProcess, tmp_path: Path
) -> None:
    settings = make_settings(redis_url=redis_server.url, rate_limit_data_per_minute=100_000)
    services = Services.build(settings)
    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", BARS))
    probe = redis.Redis(host="127.0.0.1", port=redis_server.port, socket_timeout=2)
    try:
        with TestClient(create_app(settings, services)) as client:
            assert client.get("/historical-data/BTC-USD").status_code == 200
            assert client.get("/historical-data/BTC-USD").status_code == 200
            assert _cache_hits(client) >= 1  # the second read came from Redis
            assert client.get("/health").json()["status"] == "ok"

            with Load(client) as load:
                time.sleep(0.5)
                killed_at = time.monotonic()
                redis_server.kill()

                def degraded() -> bool:
                    body = client.get("/health").json()
                    return bool(body["status"] == "degraded")

                _wait_for(degraded, 5, "/health did not report degraded")
                health = client.get("/health")
                assert health.status_code == 200  # degraded is still serving
                redis_check = health.json()["checks"]["redis"]
                assert redis_check["ok"] is False
                assert redis_check["detail"] == "cannot reach Redis; cache bypassed"
                assert health.json()["checks"]["postgres"]["ok"] is True
                time.sleep(1.5)  # the load keeps going with Redis gone
                restarted_at = time.monotonic()
                redis_server.start()

                def recovered() -> bool:
                    return bool(client.get("/health").json()["status"] == "ok")

                _wait_for(recovered, 10, "/health did not come back to ok")
                time.sleep(1.0)  # and keeps going with Redis back
                ended_at = time.monotonic()

            answers = load.between(0, ended_at)
            during = load.between(killed_at, restarted_at)
            assert len(during) >= 8, "too few requests ran during the outage"
            assert {status for _, status, _, _ in answers} == {200}  # no 5xx, no 429
            assert all(rows_ok for *_, rows_ok in answers)
            assert max(took for _, _, took, _ in answers) < 3.0  # nobody waited on dead Redis
            assert services.cache.stats.errors >= 1

            # the cache is used again: keys reappear in the new Redis and reads hit them
            _wait_for(lambda: bool(probe.keys("ca:hist:*")), 5, "no cache keys in Redis")
            hits = _cache_hits(client)
            params = {"start": "2022-03-01"}
            assert client.get("/historical-data/BTC-USD", params=params).status_code == 200
            assert probe.keys("ca:hist:BTC-USD:1d:2022-03-01:*")
            assert client.get("/historical-data/BTC-USD", params=params).status_code == 200
            assert _cache_hits(client) == hits + 1  # the second read came from the new Redis
    finally:
        probe.close()
        services.db.close()


def _start_again(server: Any) -> None:
    """Start a stopped pgserver on the same folder and socket (its own start-up path)."""
    with server._lock:
        server.ensure_postgres_running()


@pytest.mark.timeout(180)
def test_postgres_restart_fails_fast_with_503_and_the_pool_recovers_by_itself(
    private_postgres: Any, private_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = private_settings(db_timeout_seconds=1.0)
    services = Services.build(settings)
    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", BARS))
    technical = {"symbol": "BTC-USD", "indicators": ["rsi"]}
    try:
        with TestClient(create_app(settings, services)) as client:
            assert client.get("/health").status_code == 200
            assert client.get("/historical-data/BTC-USD").status_code == 200
            chat = client.post("/chat", json={"message": "What's BTC at?", "thread_id": "pg"})
            assert chat.status_code == 200

            private_postgres.stop()  # pg_ctl stop: every pooled connection dies

            limit = settings.db_timeout_seconds + 2.0  # the pool timeout, plus slack
            res, took = timed(lambda: client.get("/health"))
            assert res.status_code == 503 and took < limit
            assert res.json()["status"] == "down"
            assert res.json()["checks"]["postgres"]["ok"] is False
            for call in (
                lambda: client.get("/historical-data/BTC-USD", params={"start": "2022-02-01"}),
                lambda: client.get("/cryptocurrencies"),
                lambda: client.post("/technical", json={**technical, "as_of": "2022-03-01"}),
                lambda: client.post("/chat", json={"message": "What's ETH at?"}),
            ):
                res, took = timed(call)
                assert res.status_code == 503, res.text
                assert took < limit, f"{res.request.url} took {took:.1f}s"
                assert res.json()["error"]["code"] == "database_unavailable"
                assert "database is unavailable" in res.json()["error"]["message"]

            time.sleep(OUTAGE_SECONDS)  # a longer outage: reconnection attempts back off
            _start_again(private_postgres)

            # no restart of the app: the pool reconnects on its own
            _wait_for(
                lambda: client.get("/cryptocurrencies").status_code == 200,
                8,  # psycopg's default backoff would wait ~15 s more here
                "reads did not succeed again after Postgres came back",
            )
            assert client.get("/health").json()["status"] == "ok"
            res = client.get("/historical-data/BTC-USD", params={"start": "2022-02-01"})
            assert res.status_code == 200 and res.json()["rows"][0]["date"] == "2022-02-01"
            assert client.post("/technical", json=technical).status_code == 200
            # the chat's own pools (memory, thread locks) reconnect on their own backoff, which
            # restarts at least every RECONNECT_SECONDS: they may come back a little later
            ask = {"message": "What's BTC at?", "thread_id": "pg"}
            _wait_for(
                lambda: client.post("/chat", json=ask).status_code == 200,
                RECONNECT_SECONDS + 2,
                "chat did not succeed again after Postgres came back",
            )
            chat = client.post("/chat", json=ask)
            assert chat.status_code == 200 and "BTC-USD" in chat.json()["answer"]
            # a real answer from the database, not a fallback: the price tool ran and its
            # figure (the last stored close, written as answers write prices) is quoted
            used = chat.json()["tools_used"]
            assert [u["name"] for u in used] == ["get_price"], used
            assert all(u["ok"] for u in used), used
            last_close = fmt.price(float(BARS["close"].iloc[-1]))
            assert last_close in chat.json()["answer"], (last_close, chat.json()["answer"])
    finally:
        services.db.close()
