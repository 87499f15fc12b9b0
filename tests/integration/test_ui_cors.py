"""The web chat's origin policy: only its own origin and those of CORS_ORIGINS may call /ui."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

pytestmark = pytest.mark.integration

EVIL = "https://evil.example"
FRIEND = "https://app.example"
PAGE = {"Accept": "text/html"}
THREADS = {"pagination": {"first": 20}, "filter": {}}
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


def _cors_headers(headers: Mapping[str, str]) -> list[str]:
    return [name for name in headers if name.lower().startswith("access-control-")]


def _logged_in(client: TestClient) -> TestClient:
    client.get("/ui/", headers=PAGE)  # sets the local user's login cookie
    return client


def test_a_foreign_origin_is_refused_its_preflight_requests_and_sockets(
    app_factory: Callable[..., TestClient],
) -> None:
    client = _logged_in(app_factory())
    preflight = client.options("/ui/project/threads", headers={"Origin": EVIL, **PREFLIGHT})
    assert preflight.status_code == 403, preflight.headers
    assert _cors_headers(preflight.headers) == []
    assert preflight.json()["error"]["code"] == "origin_not_allowed"

    read = client.post("/ui/project/threads", json=THREADS, headers={"Origin": EVIL})
    assert read.status_code == 403 and _cors_headers(read.headers) == []
    assert "data" not in read.json() and read.json()["error"]["code"] == "origin_not_allowed"

    polling = client.get(
        "/ui/ws/socket.io/", params={"EIO": "4", "transport": "polling"}, headers={"Origin": EVIL}
    )
    assert polling.status_code == 403 and _cors_headers(polling.headers) == []
    socket_url = "/ui/ws/socket.io/?EIO=4&transport=websocket"
    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect(socket_url, headers={"Origin": EVIL}) as socket,
    ):
        socket.receive_text()


def test_the_page_own_origin_still_works_without_cors_headers(
    app_factory: Callable[..., TestClient],
) -> None:
    client = _logged_in(app_factory())
    own = client.post("/ui/project/threads", json=THREADS, headers={"Origin": "http://testserver"})
    assert own.status_code == 200 and own.json()["data"] == []
    assert _cors_headers(own.headers) == []
    behind_proxy = client.post(
        "/ui/project/threads",
        json=THREADS,
        headers={"Origin": "https://chat.example", "X-Forwarded-Host": "chat.example"},
    )
    assert behind_proxy.status_code == 200


def test_a_listed_origin_is_allowed_with_credentials(
    app_factory: Callable[..., TestClient],
) -> None:
    client = _logged_in(app_factory(cors_origins=[FRIEND, "*"]))
    preflight = client.options("/ui/project/threads", headers={"Origin": FRIEND, **PREFLIGHT})
    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] == FRIEND
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    read = client.post("/ui/project/threads", json=THREADS, headers={"Origin": FRIEND})
    assert read.status_code == 200
    assert read.headers["access-control-allow-origin"] == FRIEND
    # "*" opens the API, never the web chat (it would hand any site the user's login)
    evil = client.options("/ui/project/threads", headers={"Origin": EVIL, **PREFLIGHT})
    assert evil.status_code == 403 and _cors_headers(evil.headers) == []
