"""The `crypto-assistant` command line against a real database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import redis
from fastapi.testclient import TestClient

from agent.core import Services
from agent.settings import Settings
from api.main import create_app
from cli.main import app
from knowledge.migrations import discover
from tests.factories import synthetic_bars, write_csv
from tests.helpers import runner
from tests.servers import RedisProcess


def test_db_upgrade_reports_the_schema_version(env: dict[str, str]) -> None:
    first = runner.invoke(app, ["db", "upgrade"], env=env)
    second = runner.invoke(app, ["db", "upgrade"], env=env)
    assert first.exit_code == 0, first.output
    assert "0001_market_data.sql" in first.output
    latest = max(m.version for m in discover())
    assert f"Schema at version {latest}" in second.output and "Applied" not in second.output


def test_data_import_loads_a_folder_and_rejects_a_bad_file(
    env: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "prices"
    folder.mkdir()
    write_csv(folder, "BTC-USD.csv", synthetic_bars(40))
    bad = write_csv(folder, "ETH-USD.csv", synthetic_bars(40))
    text = bad.read_text().splitlines()
    cells = text[5].split(",")
    cells[2], cells[3] = cells[3], cells[2]  # high below low on line 6
    text[5] = ",".join(cells)
    bad.write_text("\n".join(text) + "\n")

    res = runner.invoke(app, ["data", "import", str(folder)], env=env)
    assert res.exit_code == 1
    assert "ETH-USD.csv rejected, nothing written" in res.output
    assert "line 6: high is below low" in res.output
    assert "BTC-USD.csv" in res.output

    listing = runner.invoke(app, ["data", "import", str(folder / "BTC-USD.csv")], env=env)
    assert "unchanged" in listing.output


def test_bad_configuration_is_reported_clearly(env: dict[str, str]) -> None:
    res = runner.invoke(app, ["db", "upgrade"], env={**env, "DATABASE_URL": "mysql://x"})
    assert res.exit_code == 2
    assert "DATABASE_URL" in res.output and "postgresql://" in res.output


def test_an_import_is_served_at_once_by_an_api_sharing_the_redis_cache(
    env: dict[str, str],
    tmp_path: Path,
    redis_server: RedisProcess,
    make_settings: Callable[..., Settings],
) -> None:
    bars = synthetic_bars(60)
    write_csv(tmp_path, "BTC-USD.csv", bars.iloc[:40])
    env = {**env, "REDIS_URL": redis_server.url}
    assert (
        runner.invoke(app, ["data", "import", str(tmp_path / "BTC-USD.csv")], env=env).exit_code
        == 0
    )

    services = Services.build(make_settings(redis_url=redis_server.url))
    try:
        with TestClient(create_app(services.settings, services, load_data=False)) as client:
            before = client.get("/historical-data/BTC-USD").json()
            assert len(before["rows"]) == 40  # now cached in Redis
            # it really is Redis that holds it (not a per-process memory cache) ...
            assert services.cache.name == "redis"
            probe = redis.Redis.from_url(redis_server.url)
            try:
                assert probe.keys("ca:hist:BTC-USD:*"), probe.keys("*")
            finally:
                probe.close()
            # ... and a repeated read is served from it
            hits = services.cache.stats.hits
            assert client.get("/historical-data/BTC-USD").json() == before
            assert services.cache.stats.hits == hits + 1

            (tmp_path / "later").mkdir()
            later = write_csv(tmp_path / "later", "BTC-USD.csv", bars)
            res = runner.invoke(app, ["data", "import", str(later)], env=env)
            assert res.exit_code == 0, res.output

            after = client.get("/historical-data/BTC-USD").json()
            assert len(after["rows"]) == 60  # not the cached 40 rows
    finally:
        services.db.close()
