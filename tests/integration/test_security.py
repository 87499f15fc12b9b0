"""Security evidence: secrets never reach logs, traces or responses; every admin route is closed
without its key; bodies over the limit are refused even when they arrive without a length.

Related evidence elsewhere: the Telegram allow-list and webhook secret in test_telegram_bot.py,
the admin key and Content-Length limits in test_api_hardening.py, prompt injection in
test_prompt_injection.py, secrets pasted into a question in test_tracing.py.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient

from agent.core import Services
from agent.settings import Settings
from api.logging_setup import configure_logging
from api.main import create_app
from api.security import require_admin
from bots.webhook import AUTH_HEADER
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv
from tests.fakes.langsmith_server import FakeLangSmith
from tests.fakes.openai_server import (
    ASK_NATIVE,
    FakeOpenAI,
    answer_from_rsi,
    call_tools,
    fail,
    tool_call,
)
from tests.fakes.telegram_server import FakeTelegram
from tests.helpers import api_routes, running_worker, wait_job
from tests.servers import RedisProcess

pytestmark = pytest.mark.integration

ADMIN_KEY = "adm-SEC-admin-key-4411"
OPENAI_KEY = "sk-test-SEC-openai-4412"
LANGSMITH_KEY = "lsv2_pt_SEC_langsmith_4413"
TELEGRAM_TOKEN = "5544332211:AASecTelegramToken_4414abcdefgh"
WEBHOOK_SECRET = "whs-SEC-webhook-4415"
DB_PASSWORD = "pgpw-SEC-4416"
REDIS_PASSWORD = "rdpw-SEC-4417"
SECRETS = [
    ADMIN_KEY,
    OPENAI_KEY,
    LANGSMITH_KEY,
    TELEGRAM_TOKEN,
    WEBHOOK_SECRET,
    DB_PASSWORD,
    REDIS_PASSWORD,
]
ALICE = 7001


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Put the root logger and the quietened loggers back as they were after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {
        name: logging.getLogger(name).level for name in ("uvicorn.access", "httpx", "httpcore")
    }
    yield
    root.handlers, root.level = handlers, level
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


def with_password(url: str, user: str, password: str) -> str:
    """`url` with its user and password replaced."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


def test_no_secret_in_logs_traces_responses_or_settings(
    make_settings: Callable[..., Settings],
    database_url: str,
    redis_server: RedisProcess,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    root_logging: None,
) -> None:
    # a database role and a Redis that both really take a password
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE secuser LOGIN SUPERUSER PASSWORD '{DB_PASSWORD}'")
    redis.Redis(port=redis_server.port).config_set("requirepass", REDIS_PASSWORD)
    output = io.StringIO()
    with FakeOpenAI() as llm, FakeLangSmith() as capture, FakeTelegram(TELEGRAM_TOKEN) as telegram:
        llm.script(
            call_tools(tool_call("technical_analysis", {"symbol": "BTC-USD"})),
            answer_from_rsi,
            fail(500, "upstream exploded"),
        )
        settings = make_settings(
            database_url=with_password(database_url, "secuser", DB_PASSWORD),
            redis_url=f"redis://:{REDIS_PASSWORD}@127.0.0.1:{redis_server.port}/0",
            admin_api_key=ADMIN_KEY,
            **ASK_NATIVE,
            llm_model="openai:gpt-test",
            openai_api_key=OPENAI_KEY,
            openai_base_url=llm.base_url,
            llm_max_retries=0,
            langsmith_tracing=True,
            langsmith_endpoint=capture.base_url,
            langsmith_api_key=LANGSMITH_KEY,
            telegram_bot_token=TELEGRAM_TOKEN,
            telegram_api_base_url=telegram.base_url,
            telegram_webhook_url="https://bot.example.org/telegram/webhook",
            telegram_webhook_secret=WEBHOOK_SECRET,
            log_level="DEBUG",
        )
        # logging as `crypto-assistant serve` sets it up, written to a buffer; caplog sees
        # the same records after the app's handler
        configure_logging(settings.log_level, settings.log_format)
        logging.getLogger().handlers[0].setStream(output)  # type: ignore[attr-defined]
        logging.getLogger().addHandler(caplog.handler)
        caplog.set_level(logging.DEBUG)

        services = Services.build(settings)
        assert services.cache.name == "redis" and services.limiter.backend == "redis"
        import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", synthetic_bars(300)))
        responses = []
        app = create_app(settings, services, load_data=False)
        with TestClient(app, raise_server_exceptions=False) as client:
            admin = {"X-API-Key": ADMIN_KEY}
            chat = client.post("/chat", json={"message": "What is the RSI of BTC?"})
            assert chat.status_code == 200 and chat.json()["mode"] == "llm"
            fallback = client.post("/chat", json={"message": "What is the RSI of BTC?"})
            assert fallback.json()["mode"] == "offline"  # the provider's 500, answered offline
            refresh = client.post("/admin/market/refresh", json={"symbols": ["btc"]}, headers=admin)
            assert refresh.status_code == 202
            with running_worker(services):
                wait_job(client, refresh.json()["status_url"], ADMIN_KEY, 10)
            job = client.get(refresh.json()["status_url"], headers=admin)
            assert job.json()["status"] == "failed"  # no provider here: a logged failure
            wrong = client.post("/admin/market/refresh", json={}, headers={"X-API-Key": "guess"})
            missing = client.get("/admin/jobs/nope")
            assert (wrong.status_code, missing.status_code) == (403, 401)

            redis_url = settings.redis_url.get_secret_value() if settings.redis_url else ""

            def broken(*args: Any, **kwargs: Any) -> Any:
                raise RuntimeError(f"could not reach {services.dsn} or {redis_url}")

            monkeypatch.setattr(services.market, "cryptocurrencies", broken)
            crash = client.get("/cryptocurrencies")
            assert crash.status_code == 500
            update = telegram.make_update("/price btc", user_id=ALICE)
            hook = client.post(
                "/telegram/webhook", json=update, headers={AUTH_HEADER: WEBHOOK_SECRET}
            )
            bad_hook = client.post("/telegram/webhook", json=update, headers={AUTH_HEADER: "nope"})
            assert (hook.status_code, bad_hook.status_code) == (200, 403)
            telegram.wait_for_sync("sendMessage", chat_id=ALICE)
            status = client.get("/system-status")
            invalid = client.post("/chat", json={"message": ""})
            assert invalid.status_code == 422
            responses = [
                chat,
                fallback,
                refresh,
                job,
                wrong,
                missing,
                crash,
                hook,
                bad_hook,
                status,
            ]
            responses.append(invalid)
        # the app's shutdown closed the chat it started and flushed its traces
        assert services.chat is None
        assert capture.wait_for_trace(
            chat.json()["trace_id"], {"ground_check", "technical_analysis"}
        )
        services.db.close()

    logging.getLogger().handlers[0].flush()  # the handler writes in batches
    logged = output.getvalue()
    # every field of every record but exc_info, the live exception object (handlers write its
    # text, exc_text, which is redacted)
    records = "\n".join(
        f"{r.getMessage()} { ({k: v for k, v in r.__dict__.items() if k != 'exc_info'}) }"
        for r in caplog.records
    )
    places = {
        "log output (JSON lines)": logged,
        "caplog": caplog.text + records,
        "LangSmith": "\n".join(b.decode("utf-8", "replace") for b in capture.bodies()),
        "LangSmith (wire)": "\n".join(b.decode("latin-1") for b in capture.raw_bodies()),
        "responses": "\n".join(f"{r.headers} {r.text}" for r in responses),
        "settings": f"{settings!r} {settings} {settings.model_dump()} {settings.model_dump_json()}",
    }
    # the evidence is not vacuous: every place really holds what it should
    assert '"path": "/chat"' in logged and '"status": 401' in logged
    assert "wrong secret token" in logged and "unhandled error" in logged
    assert "could not reach postgresql://secuser:[redacted]@" in logged
    assert "technical_analysis" in places["LangSmith"]
    assert status.status_code == 200 and status.json()["chat"]["mode"] == "llm"
    for place, text in places.items():
        found = [secret for secret in SECRETS if secret in text]
        assert not found, f"{found} in {place}"
        # nor URL-quoted, as a secret put into a URL (the Telegram token's ":" as %3A) would be
        quoted = [
            form
            for secret in SECRETS
            for form in {quote(secret), quote(secret, safe="")}
            if form in text
        ]
        assert not quoted, f"{quoted} in {place}"


# ----- admin routes ----------------------------------------------------------------------------


def _admin_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every route that depends on `require_admin`."""

    def guarded(dependant: Any) -> bool:
        return any(d.call is require_admin or guarded(d) for d in dependant.dependencies)

    return [
        (method, route.path)
        for route in api_routes(app.routes)
        if guarded(route.dependant)
        for method in sorted(route.methods or ())
    ]


def test_every_admin_route_is_closed_without_the_key(
    app_factory: Callable[..., TestClient],
) -> None:
    keyed = app_factory(admin_api_key=ADMIN_KEY)
    unkeyed = app_factory()
    routes = _admin_routes(keyed.app)
    assert {path for _, path in routes} >= {
        "/admin/market/refresh", "/admin/jobs/{job_id}", "/models/{symbol}/train"
    }  # fmt: skip
    for method, template in routes:
        path = template.replace("{job_id}", "j1").replace("{symbol}", "btc")
        calls = {
            "no header": keyed.request(method, path, json={}),
            "empty key": keyed.request(method, path, json={}, headers={"X-API-Key": ""}),
            "wrong key": keyed.request(method, path, json={}, headers={"X-API-Key": "adm-guess"}),
            "key prefix": keyed.request(
                method, path, json={}, headers={"X-API-Key": ADMIN_KEY[:-1]}
            ),
            "no key configured": unkeyed.request(
                method, path, json={}, headers={"X-API-Key": ADMIN_KEY}
            ),
        }
        statuses = {name: response.status_code for name, response in calls.items()}
        assert statuses == {
            "no header": 401, "empty key": 401, "wrong key": 403, "key prefix": 403,
            "no key configured": 403,
        }, (method, path)  # fmt: skip
        for response in calls.values():
            assert set(response.json()["error"]) == {"code", "message", "details"}
            assert ADMIN_KEY not in response.text


# ----- request size ----------------------------------------------------------------------------


def test_a_streamed_body_over_the_limit_is_refused(
    app_factory: Callable[..., TestClient],
) -> None:
    client = app_factory(max_body_bytes=2048)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is counted while reading
        yield b'{"message": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    response = client.post("/chat", content=chunks(), headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    small = client.post("/chat", json={"message": "what is RSI?"})
    assert small.status_code == 200
