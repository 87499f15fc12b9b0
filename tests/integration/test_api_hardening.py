"""REST hardening: rate limits (also across instances), admin key, request ids, CORS, limits,
metrics and the system status, all against real Postgres (and Redis where it matters)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from api.logging_setup import JsonFormatter
from knowledge.market.yahoo import YFinanceProvider
from tests.factories import synthetic_bars
from tests.fakes.yahoo_server import FakeYahoo
from tests.helpers import running_worker, wait_job
from tests.servers import RedisProcess

# every app here starts with these daily BTC-USD bars stored (app_factory is in conftest.py)
BARS = synthetic_bars(120)


def test_one_request_past_the_limit_gets_429_with_retry_after(
    app_factory: Callable[..., TestClient],
) -> None:
    client = app_factory(bars=BARS, rate_limit_data_per_minute=5)
    statuses = [client.get("/historical-data/BTC-USD").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    refused = client.get("/cryptocurrencies")
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # other groups and exempt routes keep their own budget
    assert client.get("/health").status_code == 200
    assert client.post("/chat", json={"message": "hi"}).status_code == 200


def test_limits_hold_across_two_instances_sharing_redis(
    app_factory: Callable[..., TestClient], redis_server: RedisProcess
) -> None:
    first = app_factory(bars=BARS, rate_limit_data_per_minute=6, redis_url=redis_server.url)
    second = app_factory(bars=BARS, rate_limit_data_per_minute=6, redis_url=redis_server.url)
    statuses = [(first if i % 2 else second).get("/cryptocurrencies").status_code for i in range(7)]
    assert statuses.count(200) == 6 and statuses[-1] == 429


def test_clients_are_told_apart_by_api_key(app_factory: Callable[..., TestClient]) -> None:
    client = app_factory(bars=BARS, rate_limit_data_per_minute=2)
    for key in ("alice", "bob"):
        codes = [
            client.get("/cryptocurrencies", headers={"X-API-Key": key}).status_code
            for _ in range(3)
        ]
        assert codes == [200, 200, 429]


def test_admin_routes_need_the_key(app_factory: Callable[..., TestClient]) -> None:
    with FakeYahoo() as yahoo:
        provider = YFinanceProvider(session=yahoo.session(), retries=0, sleep=lambda s: None)
        client = app_factory(bars=BARS, provider=provider, admin_api_key="adm-key-123")
        body = {"symbols": ["eth"]}
        missing = client.post("/admin/market/refresh", json=body)
        wrong = client.post("/admin/market/refresh", json=body, headers={"X-API-Key": "nope"})
        assert (missing.status_code, wrong.status_code) == (401, 403)
        assert missing.json()["error"]["message"].startswith("This route needs the admin API key")
        ok = client.post("/admin/market/refresh", json=body, headers={"X-API-Key": "adm-key-123"})
        assert ok.status_code == 202
        with running_worker(client.app.state.services):  # type: ignore[attr-defined]
            job = wait_job(client, ok.json()["status_url"], "adm-key-123", 20)
        assert job["status"] == "succeeded", job
        assert job["result"][0]["symbol"] == "ETH-USD" and job["result"][0]["ok"] is True
        rows = client.get("/historical-data/ETH-USD").json()["rows"]
        assert len(rows) == len(yahoo.bars("ETH-USD", "1d"))


def test_admin_routes_are_closed_when_no_key_is_configured(
    app_factory: Callable[..., TestClient],
) -> None:
    client = app_factory(bars=BARS)
    res = client.post("/admin/market/refresh", json={}, headers={"X-API-Key": "anything"})
    assert res.status_code == 403


def test_request_ids_in_responses_and_json_logs(
    app_factory: Callable[..., TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    client = app_factory(bars=BARS)
    generated = client.get("/health").headers["x-request-id"]
    assert len(generated) == 32
    with caplog.at_level(logging.INFO, logger="api.access"):
        res = client.get("/historical-data/BTC-USD", headers={"X-Request-ID": "req-abc-123"})
    assert res.headers["x-request-id"] == "req-abc-123"
    record = next(
        r for r in caplog.records if r.name == "api.access" and "historical" in r.getMessage()
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["status"] == 200 and line["path"] == "/historical-data/BTC-USD"
    assert (
        client.get("/health", headers={"X-Request-ID": "bad id!"}).headers["x-request-id"]
        != "bad id!"
    )


def test_cors_follows_configuration(app_factory: Callable[..., TestClient]) -> None:
    client = app_factory(bars=BARS, cors_origins=["https://app.example"])
    allowed = client.get("/health", headers={"Origin": "https://app.example"})
    other = client.get("/health", headers={"Origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in other.headers


def test_oversized_bodies_and_queries_are_refused(app_factory: Callable[..., TestClient]) -> None:
    client = app_factory(bars=BARS, max_body_bytes=2048, max_query_chars=100)
    big = client.post(
        "/chat",
        content=json.dumps({"message": "x" * 5000}),
        headers={"Content-Type": "application/json"},
    )
    assert big.status_code == 413 and big.json()["error"]["code"] == "body_too_large"
    long_query = client.get(
        "/historical-data/BTC-USD", params={"start": "2022-01-01", "x": "y" * 200}
    )
    assert long_query.status_code == 414 and long_query.json()["error"]["code"] == "query_too_long"


def test_metrics_and_system_status_show_live_counters(
    app_factory: Callable[..., TestClient],
) -> None:
    client = app_factory(bars=BARS)
    client.get("/historical-data/BTC-USD")
    client.get("/historical-data/BTC-USD")
    client.get("/historical-data/NOPE")
    client.post("/chat", json={"message": "What is the RSI of BTC?"})
    text = client.get("/metrics").text
    assert (
        'http_requests_total{method="GET",route="/historical-data/{symbol}",status="200"} 2.0'
        in text
    )
    assert (
        'http_requests_total{method="GET",route="/historical-data/{symbol}",status="404"} 1.0'
        in text
    )
    assert 'cache_operations_total{outcome="hits"}' in text
    assert 'tool_calls_total{ok="true",tool="technical_analysis"} 1.0' in text
    assert "http_request_duration_seconds_bucket" in text
    status = client.get("/system-status").json()
    assert status["requests"]["2xx"] >= 3 and status["requests"]["4xx"] == 1
    assert status["chat"]["turns"] == {"offline": 1}
    assert status["cache"]["hits"] >= 1
    (btc,) = [d for d in status["data"] if d["symbol"] == "BTC-USD"]
    assert btc["rows"] == 120 and btc["stale"] is True
    assert status["uptime_seconds"] >= 0 and status["versions"]["app"] == "0.1.0"
