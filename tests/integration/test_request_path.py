"""The cheap request path keeps every answer as it was: cached bytes equal what `response_model`
sent, the health verdict is shared and short-lived, access lines and metrics are unchanged."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agent.services.health import HealthService
from api.logging_setup import JsonFormatter, SecretFilter
from api.schemas import HistoricalData
from knowledge.cache import MemoryCache, SafeCache
from tests.factories import synthetic_bars
from tools.indicators import TechnicalReport

BARS = synthetic_bars(400, seed=5)


def _as_response_model_sent(model: type, body: dict[str, Any]) -> bytes:
    """What FastAPI answers for `body` from a route declaring `response_model=model`."""
    app = FastAPI()

    @app.get("/x", response_model=model)
    async def route() -> Any:
        return body

    return TestClient(app).get("/x").content


def test_warm_technical_answer_is_the_response_model_bytes(
    app_factory: Callable[..., TestClient],
) -> None:
    client = app_factory(bars=BARS)
    request = {"symbol": "BTC-USD", "as_of": "2023-01-31"}
    cold = client.post("/technical", json=request)
    warm = client.post("/technical", json=request)
    assert cold.status_code == warm.status_code == 200
    assert warm.headers["content-type"] == "application/json"
    assert cold.content == warm.content
    services = client.app.state.services  # type: ignore[attr-defined]
    report = anyio.run(lambda: services.technical.report("BTC-USD", as_of=_date("2023-01-31")))
    assert warm.content == _as_response_model_sent(TechnicalReport, report)
    assert warm.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_cached_history_answer_is_the_response_model_bytes(
    app_factory: Callable[..., TestClient],
) -> None:
    client = app_factory(bars=BARS)
    params = {"start": "2022-03-01", "end": "2022-03-30"}
    cold = client.get("/historical-data/BTC-USD", params=params)
    hits = client.app.state.services.cache.stats.hits  # type: ignore[attr-defined]
    warm = client.get("/historical-data/BTC-USD", params=params)
    assert cold.status_code == warm.status_code == 200
    assert client.app.state.services.cache.stats.hits == hits + 1  # type: ignore[attr-defined]
    services = client.app.state.services  # type: ignore[attr-defined]
    body = anyio.run(
        lambda: services.market.historical("BTC-USD", _date("2022-03-01"), _date("2022-03-30"))
    )
    assert cold.content == warm.content == _as_response_model_sent(HistoricalData, body)


def test_access_lines_and_metrics_keep_their_fields_and_labels(
    app_factory: Callable[..., TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    client = app_factory(bars=BARS)
    with caplog.at_level(logging.INFO, logger="api.access"):
        for _ in range(3):
            assert client.get("/health", headers={"X-Request-ID": "rp-1"}).status_code == 200
        assert client.get("/nowhere").status_code == 404
    lines = [r for r in caplog.records if r.name == "api.access"]
    assert len(lines) == 4
    first = json.loads(JsonFormatter().format(lines[0]))
    assert {k: first[k] for k in ("level", "logger", "method", "path", "status")} == {
        "level": "INFO",
        "logger": "api.access",
        "method": "GET",
        "path": "/health",
        "status": 200,
    }
    assert first["message"].startswith("GET /health 200 ") and first["message"].endswith("ms")
    assert isinstance(first["ms"], float) and first["ts"].endswith("Z")
    text = client.get("/metrics").text
    assert 'http_requests_total{method="GET",route="/health",status="200"} 3.0' in text
    assert 'http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert 'http_request_duration_seconds_count{route="/health"} 3.0' in text


def test_request_ids_are_32_hex_and_unique(app_factory: Callable[..., TestClient]) -> None:
    client = app_factory(bars=BARS)
    ids = {client.get("/health").headers["x-request-id"] for _ in range(20)}
    assert len(ids) == 20 and all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


@pytest.mark.parametrize(
    "text",
    [
        "GET /health 200 0.4ms",
        "GET /telegram/123456789:ABCDEFGHIJKLMNOPQRSTUVWXYZ 200 1.0ms",
        "postgresql://user:pw@db/x",
        "api_key=abc token: x",
        "key sk-abcdefghijklmnop and lsv2_abcdefghijkl",
        "the configured hunter2-secret here",
    ],
)
def test_secret_filter_shortcut_redacts_exactly_as_the_redactor(text: str) -> None:
    secrets = SecretFilter(["hunter2-secret"])
    assert secrets.clean(text) == secrets.redact.text(text)


class _CountingDb:
    def __init__(self, ok: bool = True) -> None:
        self.ok, self.pings = ok, 0

    def ping(self) -> bool:
        self.pings += 1
        return self.ok


def test_health_verdict_is_shared_while_checking_and_kept_briefly() -> None:
    db = _CountingDb()
    service = HealthService(db, SafeCache(MemoryCache()), redis_configured=False, ttl=30)  # type: ignore[arg-type]

    async def scenario() -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []

        async def one() -> None:
            results.append(await service.check())

        async with anyio.create_task_group() as tasks:
            for _ in range(10):
                tasks.start_soon(one)
        results.append(await service.check())
        return results

    results = anyio.run(scenario)
    assert db.pings == 1 and all(r["status"] == "ok" for r in results)
    results[0]["status"] = "changed by a caller"  # callers get copies
    assert anyio.run(service.check)["status"] == "ok"
    db.ok = False
    service.forget()
    status, body = anyio.run(service.check_json)
    assert status == "down" and json.loads(body)["checks"]["postgres"]["ok"] is False


def test_health_verdict_expires() -> None:
    db = _CountingDb()
    service = HealthService(db, SafeCache(MemoryCache()), redis_configured=False, ttl=0.0)  # type: ignore[arg-type]
    anyio.run(service.check)
    db.ok = False
    assert anyio.run(service.check)["status"] == "down"
    assert db.pings == 2


def _date(text: str) -> Any:
    from datetime import date

    return date.fromisoformat(text)
