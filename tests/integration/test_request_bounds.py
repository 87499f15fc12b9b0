"""Slow work is bounded: a stalled body gets 408 within BODY_TIMEOUT_SECONDS, one request's
texts have a total character cap, and a client has at most MAX_IN_FLIGHT_PER_CLIENT expensive
requests running at once (real uvicorn on 127.0.0.1 where timing or concurrency matters)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from agent.core import Services
from agent.settings import Settings
from api.main import create_app
from tests.integration.test_unexpected_errors import serve

pytestmark = pytest.mark.integration
TEXT = ("Bitcoin rallies as ETF inflows surge, but miners capitulate as fees slump. " * 70)[:5000]


@pytest.fixture
def live(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., str]]:
    """`start(**settings)`: the app under uvicorn with those settings; returns its base URL."""
    opened = []

    def start(**overrides: object) -> str:
        services = Services.build(make_settings(sentiment_backend="lexicon", **overrides))
        server = serve(create_app(services.settings, services, load_data=False), services)
        host, port = server.__enter__()
        opened.append(server)
        return f"http://{host}:{port}"

    yield start
    for server in opened:
        server.__exit__(None, None, None)


def stalled_post(url: str, path: str, key: str, declared: int = 1000) -> socket.socket:
    """A POST that declares `declared` body bytes and sends only 10 of them."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"X-API-Key: {key}\r\nContent-Length: {declared}\r\n\r\n"
    )
    sock.sendall(head.encode() + b'{"texts":[')
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one response (with a Content-Length) on `sock`."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionResetError(f"closed after {data!r}")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    while len(body) < int(headers.get("content-length", "0")):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


def test_a_body_that_stops_arriving_gets_408_within_the_body_timeout(
    live: Callable[..., str],
) -> None:
    url = live(body_timeout_seconds=1)
    began = time.monotonic()
    sock = stalled_post(url, "/sentiment", "slow")
    sock.settimeout(1 + 1)  # BODY_TIMEOUT_SECONDS + 1
    try:
        status, headers, body = read_response(sock)
    except TimeoutError:
        pytest.fail("no answer within BODY_TIMEOUT_SECONDS + 1 s to a body that stopped")
    finally:
        sock.close()
    assert time.monotonic() - began < 2
    assert status == 408
    assert headers["x-request-id"] and headers["connection"] == "close"
    error = json.loads(body)["error"]
    assert error["code"] == "request_timeout" and "1" in error["message"]
    assert httpx.get(f"{url}/health", timeout=5).status_code == 200


def test_texts_over_the_total_character_cap_get_422_naming_the_limit(
    app_factory: Callable[..., TestClient],
) -> None:
    client = app_factory(sentiment_backend="lexicon", sentiment_max_request_chars=20_000)
    over = client.post("/sentiment", json={"texts": [TEXT] * 5})  # 25,000 characters
    assert over.status_code == 422
    error = over.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"][0]["field"] == "body.texts"
    assert "20000" in error["details"][0]["message"]
    assert "SENTIMENT_MAX_REQUEST_CHARS" in error["details"][0]["message"]
    at_cap = client.post("/sentiment", json={"texts": [TEXT] * 4})  # exactly 20,000
    assert at_cap.status_code == 200 and len(at_cap.json()["items"]) == 4


def test_a_client_over_its_in_flight_cap_gets_429_with_retry_after_and_others_proceed(
    live: Callable[..., str],
) -> None:
    url = live(max_in_flight_per_client=2, body_timeout_seconds=10)
    held = [stalled_post(url, "/sentiment", "alice") for _ in range(2)]
    try:
        time.sleep(0.5)  # both are in flight, waiting for their bodies
        body = {"texts": ["Bitcoin rallies"]}
        third = httpx.post(f"{url}/sentiment", json=body, headers={"X-API-Key": "alice"})
        assert third.status_code == 429
        assert third.json()["error"]["code"] == "too_many_in_flight"
        assert int(third.headers["retry-after"]) >= 1 and third.headers["x-request-id"]
        chat = httpx.post(f"{url}/chat", json={"message": "hi"}, headers={"X-API-Key": "alice"})
        assert chat.status_code == 200  # chat turns are bounded per thread, not by this cap
        other = httpx.post(f"{url}/sentiment", json=body, headers={"X-API-Key": "bob"})
        assert other.status_code == 200
        rest = b'"Bitcoin rallies"]}'
        for sock in held:  # declared 1000 bytes: pad the JSON with spaces
            sock.sendall(rest + b" " * (1000 - 10 - len(rest)))
            assert read_response(sock)[0] == 200
    finally:
        for sock in held:
            sock.close()
    # the slots were given back
    again = httpx.post(f"{url}/sentiment", json=body, headers={"X-API-Key": "alice"})
    assert again.status_code == 200


def test_four_concurrent_maximal_requests_from_one_client_are_bounded(
    live: Callable[..., str],
) -> None:
    url = live(rate_limit_data_per_minute=1000)
    texts = [TEXT] * 20  # 100,000 characters: the default per-request cap
    httpx.post(f"{url}/sentiment", json={"texts": ["warm up"]}, timeout=60)

    def one(_: int) -> tuple[int, float]:
        began = time.monotonic()
        res = httpx.post(
            f"{url}/sentiment", json={"texts": texts}, headers={"X-API-Key": "k"}, timeout=120
        )
        return res.status_code, time.monotonic() - began

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(one, range(4)))
    statuses = sorted(status for status, _ in answers)
    assert statuses.count(200) <= 2 and set(statuses) <= {200, 429}, answers
    assert 429 in statuses, answers
    refused = [seconds for status, seconds in answers if status == 429]
    scored = [seconds for status, seconds in answers if status == 200]
    assert max(refused) < min(scored), answers  # refused at once, not after waiting its turn
    over = httpx.post(f"{url}/sentiment", json={"texts": [TEXT] * 21}, timeout=60)
    assert over.status_code == 422  # 105,000 characters: over the default cap


def test_window_days_true_is_a_422_not_one_day(app_factory: Callable[..., TestClient]) -> None:
    client = app_factory()
    res = client.post("/sentiment", json={"symbol": "BTC-USD", "window_days": True})
    assert res.status_code == 422
    assert res.json()["error"]["details"][0]["field"] == "body.window_days"
    assert client.get("/sentiment-trend/BTC-USD", params={"days": "true"}).status_code == 422
