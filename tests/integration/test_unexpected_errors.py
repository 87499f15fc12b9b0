"""An unexpected error is the documented JSON 500 with its request id, and the keep-alive
connection it came on keeps serving: the real app under real uvicorn on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import h11
import pytest
from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask

from agent.core import Services
from agent.settings import Settings
from api.main import create_app
from tests.servers import serve_app

pytestmark = pytest.mark.integration


@contextmanager
def serve(app: Any, services: Services) -> Iterator[tuple[str, int]]:
    """`app` (on `services`) under uvicorn on a free loopback port; yields (host, port)."""
    try:
        with serve_app(app) as url:
            host, port = url.removeprefix("http://").split(":")
            yield host, int(port)
    finally:
        services.db.close()


class Connection:
    """One HTTP/1.1 keep-alive connection over a raw socket, parsed by h11."""

    def __init__(self, address: tuple[str, int], timeout: float = 10) -> None:
        self.sock = socket.create_connection(address, timeout=timeout)
        self.conn = h11.Connection(h11.CLIENT)
        self.host = f"{address[0]}:{address[1]}"

    def request(self, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
        """Send a request without a body and read its whole response."""
        if self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
            self.conn.start_next_cycle()
        headers = [("Host", self.host), ("Content-Length", "0")]
        self.sock.sendall(self.conn.send(h11.Request(method=method, target=path, headers=headers)))
        self.sock.sendall(self.conn.send(h11.EndOfMessage()))
        status, found, body = 0, {}, b""
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                data = self.sock.recv(65536)
                if not data:
                    raise ConnectionResetError("the server closed the connection")
                self.conn.receive_data(data)
            elif isinstance(event, h11.Response):
                status = event.status_code
                found = {k.decode().lower(): v.decode() for k, v in event.headers}
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return status, found, body

    def close(self) -> None:
        self.sock.close()


def _boom() -> None:
    raise RuntimeError("planted failure")


async def _boom_route() -> None:
    _boom()


async def _fails_after_answering() -> JSONResponse:
    return JSONResponse({"ok": True}, background=BackgroundTask(_boom))


@pytest.fixture
def live(make_settings: Callable[..., Settings]) -> Iterator[tuple[str, int]]:
    """The app as `create_app` builds it, plus routes that fail before and after answering."""
    services = Services.build(make_settings())
    app = create_app(services.settings, services, load_data=False)
    app.add_api_route("/boom", _boom_route, methods=["GET"])
    app.add_api_route("/boom-after", _fails_after_answering, methods=["GET"])
    with serve(app, services) as address:
        yield address


def test_an_unexpected_error_is_one_json_500_and_the_connection_keeps_serving(
    live: tuple[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    conn = Connection(live)
    try:
        with caplog.at_level(logging.ERROR):
            status, headers, body = conn.request("GET", "/boom")
        assert status == 500
        assert headers["content-type"].startswith("application/json")
        request_id = headers["x-request-id"]
        assert json.loads(body) == {
            "error": {
                "code": "internal_error",
                "message": "Something went wrong on our side.",
                "details": {"request_id": request_id},
            }
        }
        assert "close" not in headers.get("connection", "")
        # the next request on the same connection is answered
        status, headers, body = conn.request("GET", "/health")
        assert status == 200, body
        assert headers["x-request-id"] != request_id
    finally:
        conn.close()
    failures = [r for r in caplog.records if r.exc_info and r.exc_info[0] is RuntimeError]
    assert failures, "the traceback of the unexpected error is logged"
    assert all("uvicorn" not in r.name for r in failures), "the server never saw the error"


def test_an_error_after_the_answer_was_sent_leaves_the_connection_usable(
    live: tuple[str, int],
) -> None:
    conn = Connection(live)
    try:
        status, _, body = conn.request("GET", "/boom-after")
        assert (status, json.loads(body)) == (200, {"ok": True})
        status, _, _ = conn.request("GET", "/health")
        assert status == 200
    finally:
        conn.close()
