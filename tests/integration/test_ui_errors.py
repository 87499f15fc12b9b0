"""The web chat's errors: bad input is 422, a database outage 503 in time, all in one shape."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agent.core import Services
from agent.settings import Settings
from api.main import create_app

pytestmark = pytest.mark.integration

PAGE = {"Accept": "text/html"}


def _logged_in(client: TestClient) -> TestClient:
    client.get("/ui/", headers=PAGE)  # sets the local user's login cookie
    return client


def _error(res: Any, status: int) -> dict[str, Any]:
    assert res.status_code == status, res.text
    assert res.headers["content-type"].startswith("application/json"), res.text
    error = res.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    return dict(error)


@pytest.mark.parametrize(
    "body",
    [
        {"pagination": {"first": 20, "cursor": "a\x00b"}, "filter": {}},
        {"pagination": {"first": 20}, "filter": {"search": "btc\x00"}},
        {"pagination": {"first": -1}, "filter": {}},
    ],
    ids=["nul-cursor", "nul-search", "negative-page"],
)
def test_bad_thread_listing_input_is_a_422(
    app_factory: Callable[..., TestClient], body: dict[str, Any]
) -> None:
    client = _logged_in(app_factory())
    _error(client.post("/ui/project/threads", json=body), 422)


def test_chainlit_errors_use_the_documented_shape(app_factory: Callable[..., TestClient]) -> None:
    client = app_factory()
    assert _error(client.post("/ui/project/threads", json={}), 401)["code"] == "unauthorized"
    _logged_in(client)
    invalid = _error(client.post("/ui/project/threads", json={"pagination": "x"}), 422)
    assert invalid["code"] == "validation_error" and invalid["details"]
    not_json = client.post(
        "/ui/project/threads", content=b"{", headers={"content-type": "application/json"}
    )
    _error(not_json, 422)
    assert _error(client.get("/ui/project/thread/nope"), 404)["code"] == "not_found"
    _error(client.get("/ui/project/thread/a%00b"), 422)
    _error(client.get("/ui/stored-elements/nope"), 404)
    client.cookies.clear()
    _error(client.get("/ui/stored-elements/nope"), 401)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "too_deep"),
        (b'{"pagination": {"first": ' + b"9" * 5000 + b"}}", "integer_too_large"),
        (b'{"filter": {"search": "\xff"}}', "not_utf8"),
    ],
    ids=["deep", "huge-int", "not-utf8"],
)
def test_an_unreadable_body_says_why(
    app_factory: Callable[..., TestClient], body: bytes, reason: str
) -> None:
    client = _logged_in(app_factory(max_body_bytes=1_000_000))
    res = client.post(
        "/ui/project/threads", content=body, headers={"content-type": "application/json"}
    )
    error = _error(res, 422)
    assert error["code"] == "invalid_body" and error["details"]["reason"] == reason, error
    assert "UTF-8 JSON" not in error["message"]


def test_an_oversized_chunked_body_is_a_413(app_factory: Callable[..., TestClient]) -> None:
    """No Content-Length to refuse up front: the limit is met while reading, and the web chat
    answers it as the API does."""
    client = _logged_in(app_factory(max_body_bytes=10_000))

    def chunks() -> Any:
        yield b'{"filter": {"search": "'
        for _ in range(20):
            yield b"x" * 1000
        yield b'"}}'

    res = client.post(
        "/ui/project/threads", content=chunks(), headers={"content-type": "application/json"}
    )
    assert _error(res, 413)["code"] == "body_too_large"


@pytest.mark.timeout(120)
def test_postgres_down_is_a_503_within_the_database_timeout(
    private_postgres: Any, private_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = private_settings(db_timeout_seconds=1.0)
    services = Services.build(settings)
    body = {"pagination": {"first": 20}, "filter": {}}
    try:
        with TestClient(create_app(settings, services)) as client:
            _logged_in(client)
            assert client.post("/ui/project/threads", json=body).status_code == 200
            private_postgres.stop()
            for call in (
                lambda: client.post("/ui/project/threads", json=body),
                lambda: client.get("/ui/project/thread/some-thread"),
            ):
                began = time.monotonic()
                res = call()
                took = time.monotonic() - began
                assert _error(res, 503)["code"] == "database_unavailable"
                assert took < settings.db_timeout_seconds + 1.5, took
    finally:
        services.db.close()
