"""Integration fixtures: settings on a fresh database, built services, an app client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agent.services import Services
from agent.settings import Settings
from api.main import create_app
from tests.fakes.openai_server import FakeOpenAI

pytestmark = pytest.mark.integration


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path) -> Callable[..., Settings]:
    """Settings on this test's database, with no provider and no start-up data load."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "data_home": tmp_path / "var",
            "market_provider": "none",
            "load_data_on_start": False,
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
