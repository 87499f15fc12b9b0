"""The web chat in a real browser: the API with its Chainlit UI under uvicorn, Debian's chromium.

One turn end to end: the question typed in /ui, the tool step shown, the answer streamed, and
the RSI it quotes equal to the one `POST /technical` returns on the same server. Then memory
across a reload: the conversation is reopened from the sidebar and a follow-up ("and for ETH?")
is answered from the remembered thread.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, cast

import chainlit as cl
import httpx
import plotly.graph_objects as go
import pytest
from chainlit.auth import create_jwt
from chainlit.context import ChainlitContext, context_var
from chainlit.session import HTTPSession
from chainlit.step import StepDict
from chainlit.types import Feedback, Pagination, ThreadFilter
from chainlit.user import User
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from starlette.datastructures import Headers

from agent.core import Services
from agent.settings import Settings
from api.main import create_app
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv
from tests.servers import serve_app
from ui.auth import (
    LOCAL_USER,
    SIGNING_KEY_FILE,
    cookie_user,
    ensure_auth_secret,
    load_or_create_secret,
    web_user,
)
from ui.threads import PostgresDataLayer, ThreadStore, install_thread_store

try:
    from playwright.sync_api import Page, Route, expect, sync_playwright
except ImportError:  # reported as a failure by the test, not as a collection error
    sync_playwright = None  # type: ignore[assignment]

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "What is the RSI of BTC?"
FOLLOW_UP = "and for ETH?"
RSI_TEXT = re.compile(r"RSI 14 (-?\d+\.\d)")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _chromium() -> str:
    """Debian's chromium (CI installs it); a missing browser fails the test with the fix."""
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        pytest.fail(
            f"chromium not found at {path}: install it (apt-get install -y chromium) "
            "or set CHROMIUM_PATH; the web chat test needs a real browser"
        )
    if sync_playwright is None:
        pytest.fail("the playwright package is missing: pip install playwright")
    return path


@pytest.fixture
def live_url(services: Services, tmp_path: Path) -> Iterator[str]:
    """The API with the web chat on a free loopback port, on synthetic BTC and ETH data."""
    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", synthetic_bars(300, seed=11)))
    import_file(services.prices, write_csv(tmp_path, "ETH-USD.csv", synthetic_bars(300, seed=23)))
    with serve_app(create_app(services.settings, services)) as url:
        yield url


def test_web_chat_streams_the_technical_rsi(live_url: str, tmp_path: Path) -> None:
    executable = _chromium()
    technical = httpx.post(f"{live_url}/technical", json={"symbol": "BTC-USD"}, timeout=30)
    assert technical.status_code == 200
    expected_rsi = round(technical.json()["values"]["rsi_14"], 1)

    def local_only(route: Route) -> None:
        # Chainlit's page links web fonts and a CDN stylesheet: never leave the machine
        if route.request.url.startswith(live_url):
            route.continue_()
        else:
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1500})
            page.set_default_timeout(30_000)
            page.route("**/*", local_only)
            page.goto(f"{live_url}/ui")
            expect(page.locator("#starters")).to_be_visible()  # the session is connected
            page.locator("#chat-input").fill(QUESTION)
            submit = page.locator("#chat-submit")
            expect(submit).to_be_enabled()
            submit.click()

            answer = page.locator('[data-step-type="assistant_message"] .message-content')
            expect(answer).to_contain_text(re.compile(r"RSI 14 -?\d+\.\d"))
            # the chart is attached when the turn is over: the streamed text is complete
            expect(answer.locator(".js-plotly-plot")).to_be_visible()
            text = answer.inner_text()

            tool_step = page.locator("#step-technical_analysis")
            expect(tool_step).to_be_visible()
            expect(tool_step).to_contain_text("Used")
            tool_step.click()  # open it: arguments in, summary out
            summary = page.locator('[data-step-type="tool"]').get_by_text(
                f"RSI 14 {expected_rsi:.1f}"
            )
            expect(summary).to_be_visible()

            shot = tmp_path / "web_chat.png"
            page.screenshot(path=str(shot), animations="disabled")
        finally:
            browser.close()

    shown = re.search(r"RSI 14 (-?\d+\.\d)", text)
    assert shown is not None, text
    assert float(shown.group(1)) == expected_rsi, (shown.group(0), expected_rsi)
    assert "technical" in text.lower() and "BTC-USD" in text
    assert shot.read_bytes().startswith(PNG_MAGIC)
    if os.environ.get("SAVE_SCREENSHOTS") == "1":
        target = ROOT / "docs" / "images" / "web_chat.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)
        assert target.read_bytes().startswith(PNG_MAGIC)


def _local_only(live_url: str) -> Callable[[Route], None]:
    """A route handler that lets requests to the server through and aborts any other."""

    def handle(route: Route) -> None:
        if route.request.url.startswith(live_url):
            route.continue_()
        else:
            route.abort()

    return handle


def _ask(page: Page, text: str) -> None:
    page.locator("#chat-input").fill(text)
    submit = page.locator("#chat-submit")
    expect(submit).to_be_enabled()
    submit.click()


def test_a_reload_resumes_the_conversation_with_its_memory(live_url: str) -> None:
    executable = _chromium()
    technical = httpx.post(f"{live_url}/technical", json={"symbol": "ETH-USD"}, timeout=30)
    assert technical.status_code == 200
    expected_rsi = round(technical.json()["values"]["rsi_14"], 1)
    # without the thread's memory, the follow-up alone asks for no technical analysis
    alone = httpx.post(f"{live_url}/chat", json={"message": FOLLOW_UP}, timeout=60)
    assert alone.status_code == 200
    assert "technical_analysis" not in [t["name"] for t in alone.json()["tools_used"]]

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1500})
            page.set_default_timeout(30_000)
            page.route("**/*", _local_only(live_url))
            page.goto(f"{live_url}/ui")
            expect(page.locator("#starters")).to_be_visible()
            _ask(page, QUESTION)
            answers = page.locator('[data-step-type="assistant_message"] .message-content')
            expect(answers.first.locator(".js-plotly-plot")).to_be_visible()  # turn over

            page.reload()
            expect(page.locator("#starters")).to_be_visible()  # a new, empty conversation
            earlier = page.locator('a[href*="/thread/"]').filter(has_text=QUESTION)
            expect(earlier).to_have_count(1)  # listed in the sidebar
            earlier.click()
            expect(page).to_have_url(re.compile(r"/ui/thread/[0-9a-f-]{36}$"))
            thread_id = page.url.rsplit("/", 1)[1]
            # the stored conversation is shown again, its chart included
            expect(page.locator('[data-step-type="user_message"]')).to_contain_text(QUESTION)
            expect(answers).to_have_count(1)
            expect(answers.first).to_contain_text(RSI_TEXT)
            expect(answers.first.locator(".js-plotly-plot")).to_be_visible()

            _ask(page, FOLLOW_UP)
            expect(answers).to_have_count(2)
            follow_up = answers.nth(1)
            expect(follow_up).to_contain_text(RSI_TEXT)
            expect(follow_up.locator(".js-plotly-plot")).to_be_visible()
            text = follow_up.inner_text()
            expect(page).to_have_url(re.compile(f"/ui/thread/{thread_id}$"))
        finally:
            browser.close()

    shown = RSI_TEXT.search(text)
    assert shown is not None, text
    assert float(shown.group(1)) == expected_rsi, (shown.group(0), expected_rsi)
    assert "ETH-USD" in text and "BTC-USD" not in text, text


# --- the pieces behind the browser: history store, element route, login, signing key ---------


def _in_http_context() -> None:
    """A Chainlit context for data-layer calls made outside a browser session (as its API does)."""
    session = HTTPSession(id=str(uuid.uuid4()), client_type="webapp")
    context_var.set(ChainlitContext(session))


@pytest.fixture
async def history(services: Services) -> AsyncIterator[tuple[PostgresDataLayer, ThreadStore]]:
    """The data layer on this test's database, through the store of a bare app with /ui."""
    app = FastAPI()
    app.state.services = services
    store = install_thread_store(app, "/ui")
    yield PostgresDataLayer(stores=lambda: store), store
    await store.close()


def _step(step_id: str, thread_id: str, kind: str, second: int, **fields: Any) -> StepDict:
    moment = f"2024-05-01T10:00:{second:02d}.000000Z"
    return cast(
        StepDict,
        {"id": step_id, "threadId": thread_id, "type": kind, "createdAt": moment, **fields},
    )


async def test_the_history_store_merges_out_of_order_writes_per_user(
    history: tuple[PostgresDataLayer, ThreadStore],
) -> None:
    layer, _ = history
    _in_http_context()
    alice = await layer.create_user(User(identifier="alice"))
    bob = await layer.create_user(User(identifier="bob"))
    assert alice is not None and bob is not None
    assert (await layer.get_user("alice")) == alice
    assert await layer.get_user("carol") is None

    thread = str(uuid.uuid4())
    # Chainlit persists from separate tasks: a step's update may land before its creation
    await layer.update_step(
        _step("tool", thread, "tool", 2, name="technical_analysis", output="RSI 14 41.3")
    )
    await layer.create_step(
        _step("tool", thread, "tool", 2, name="technical_analysis", input='{"a": 1}', output="")
    )
    await layer.create_step(_step("ask", thread, "user_message", 1, output=QUESTION))
    await layer.create_step(_step("answer", thread, "assistant_message", 3, output="BTC-USD"))
    await layer.update_thread(thread, name=QUESTION, user_id=alice.id, metadata={"a": 1, "b": 2})
    await layer.update_thread(thread, user_id=bob.id, metadata={"a": None, "c": 3})

    stored = await layer.get_thread(thread)
    assert stored is not None
    assert stored["userIdentifier"] == "alice"  # the first owner keeps the thread
    assert stored["name"] == QUESTION
    assert stored["metadata"] == {"b": 2, "c": 3}
    steps = {step["id"]: step for step in stored["steps"]}
    assert [step["id"] for step in stored["steps"]] == ["ask", "tool", "answer"]
    assert steps["tool"]["output"] == "RSI 14 41.3" and steps["tool"]["input"] == '{"a": 1}'
    assert await layer.get_thread_author(thread) == "alice"
    assert await layer.get_thread_author(str(uuid.uuid4())) == ""

    feedback_id = await layer.upsert_feedback(Feedback(forId="answer", value=1))
    again = await layer.upsert_feedback(Feedback(forId="answer", value=0, comment="wrong"))
    assert again == feedback_id  # one feedback per message, the last one wins
    stored = await layer.get_thread(thread)
    assert stored is not None
    assert stored["steps"][2].get("feedback") == {
        "forId": "answer",
        "id": feedback_id,
        "value": 0,
        "comment": "wrong",
    }

    page = Pagination(first=10)
    listed = await layer.list_threads(page, ThreadFilter(userId=alice.id))
    assert [t["id"] for t in listed.data] == [thread]
    assert (await layer.list_threads(page, ThreadFilter(userId=bob.id))).data == []
    assert (await layer.list_threads(page, ThreadFilter())).data == []  # never everyone's
    searched = await layer.list_threads(page, ThreadFilter(userId=alice.id, search="RSI%"))
    assert searched.data == []  # the search is a plain substring, not a pattern
    disliked = await layer.list_threads(page, ThreadFilter(userId=alice.id, feedback=0))
    assert [t["id"] for t in disliked.data] == [thread]


async def test_threads_page_by_recent_activity(
    history: tuple[PostgresDataLayer, ThreadStore],
) -> None:
    layer, _ = history
    _in_http_context()
    user = await layer.create_user(User(identifier="pager"))
    assert user is not None
    threads = [str(uuid.uuid4()) for _ in range(3)]
    for thread in threads:
        await layer.update_thread(thread, name=f"thread {thread}", user_id=user.id)
    # a new message makes the oldest thread the most recently active one
    await layer.create_step(_step(str(uuid.uuid4()), threads[0], "user_message", 1, output="hi"))
    first = await layer.list_threads(Pagination(first=2), ThreadFilter(userId=user.id))
    assert first.pageInfo.hasNextPage is True
    assert [t["id"] for t in first.data] == [threads[0], threads[2]]
    rest = await layer.list_threads(
        Pagination(first=2, cursor=first.pageInfo.endCursor), ThreadFilter(userId=user.id)
    )
    assert [t["id"] for t in rest.data] == [threads[1]] and rest.pageInfo.hasNextPage is False


async def test_a_stored_chart_is_served_to_its_owner_only(
    history: tuple[PostgresDataLayer, ThreadStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    layer, store = history
    _in_http_context()
    monkeypatch.setenv("CHAINLIT_AUTH_SECRET", "k" * 48)
    owner = await layer.create_user(User(identifier="owner"))
    await layer.create_user(User(identifier="other"))
    assert owner is not None
    thread = str(uuid.uuid4())
    await layer.update_thread(thread, name="chart", user_id=owner.id)
    figure = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))
    element = cl.Plotly(name="BTC-USD 1d chart", figure=figure, thread_id=thread, for_id="m1")
    await layer.create_element(element)

    stored = await layer.get_thread(thread)
    assert stored is not None and stored["elements"] is not None
    [shown] = stored["elements"]
    url = shown["url"]
    assert url == f"/ui/stored-elements/{element.id}"
    assert shown["type"] == "plotly" and shown["forId"] == "m1" and not shown["chainlitKey"]
    assert await layer.get_element(thread, element.id) == shown

    signed = create_jwt(User(identifier="owner"))
    transport = httpx.ASGITransport(app=store.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ui.test") as client:

        async def fetch(token: str | None) -> httpx.Response:
            headers = {"Cookie": f"access_token={token}"} if token else {}
            return await client.get(url, headers=headers)

        served = await fetch(signed)
        assert served.status_code == 200
        assert served.headers["content-type"] == "application/json"
        assert served.json()["data"][0]["y"] == [3, 4]
        assert (await fetch(create_jwt(User(identifier="other")))).status_code == 404
        assert (await fetch(None)).status_code == 401
        monkeypatch.setenv("CHAINLIT_AUTH_SECRET", "z" * 48)  # the key changed since login
        assert (await fetch(signed)).status_code == 401


async def test_deleting_a_conversation_also_forgets_its_memory(
    history: tuple[PostgresDataLayer, ThreadStore], services: Services, tmp_path: Path
) -> None:
    layer, _ = history
    _in_http_context()
    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", synthetic_bars(300, seed=11)))
    chat = await services.start_chat()
    try:
        user = await layer.create_user(User(identifier="forgetful"))
        assert user is not None
        thread = str(uuid.uuid4())
        await layer.update_thread(thread, name=QUESTION, user_id=user.id)
        await chat.reply(thread, QUESTION, surface="web", principal="forgetful")
        assert await chat.history(thread, surface="web", principal="forgetful") != []
        await layer.delete_thread(thread)
        assert await layer.get_thread(thread) is None
        assert await chat.history(thread, surface="web", principal="forgetful") == []
    finally:
        await services.memory.close()


def test_the_login_is_the_local_user_unless_a_trusted_header_names_one() -> None:
    local = web_user(Headers({"x-forwarded-user": "mallory"}), None)
    assert local is not None and local.identifier == LOCAL_USER  # no header is trusted
    named = web_user(Headers({"X-Forwarded-User": " ana "}), "X-Forwarded-User")
    assert named is not None and named.identifier == "ana"
    assert web_user(Headers({}), "X-Forwarded-User") is None  # the proxy was bypassed
    assert web_user(Headers({"X-Forwarded-User": "a\tb"}), "X-Forwarded-User") is None
    assert web_user(Headers({"X-Forwarded-User": "a" * 201}), "X-Forwarded-User") is None
    with pytest.raises(ValueError, match="header name"):
        Settings(_env_file=None, web_user_header="X User")  # type: ignore[call-arg]


def test_the_signing_key_is_generated_once_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHAINLIT_AUTH_SECRET", raising=False)
    settings = Settings(_env_file=None, data_home=tmp_path / "var")  # type: ignore[call-arg]
    key = ensure_auth_secret(settings)
    path = tmp_path / "var" / SIGNING_KEY_FILE
    assert os.environ["CHAINLIT_AUTH_SECRET"] == key == path.read_text().strip()
    assert len(key) >= 32 and path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_secret(path) == key  # a restart keeps the logins valid
    monkeypatch.delenv("CHAINLIT_AUTH_SECRET")
    configured = Settings(_env_file=None, chainlit_auth_secret=SecretStr("c" * 40))  # type: ignore[call-arg]
    assert ensure_auth_secret(configured) == "c" * 40
    path.write_text("short\n")
    with pytest.raises(ValueError, match="delete it"):
        load_or_create_secret(path)


def test_page_loads_log_in_the_user_the_trusted_proxy_names(
    make_settings: Callable[..., Settings],
) -> None:
    services = Services.build(make_settings(web_user_header="X-Forwarded-User"))
    page = {"Accept": "text/html"}

    def logged_in(client: TestClient) -> str | None:
        return cookie_user(client.cookies)

    try:
        with TestClient(create_app(services.settings, services)) as client:
            assert "set-cookie" not in client.get("/ui/", headers=page).headers  # no header
            assert client.post("/ui/auth/header").status_code == 401
            client.get("/ui/", headers={**page, "X-Forwarded-User": "ana"})
            assert logged_in(client) == "ana"
            again = client.get("/ui/", headers={**page, "X-Forwarded-User": "ana"})
            assert "set-cookie" not in again.headers  # the cookie is already right
            assert client.get("/ui/user").json()["identifier"] == "ana"
            # the same browser, now somebody else behind the proxy: a new login
            client.get("/ui/", headers={**page, "X-Forwarded-User": "bea"})
            assert client.get("/ui/user").json()["identifier"] == "bea"
            # a page load that bypasses the proxy loses the login
            client.get("/ui/", headers=page)
            assert logged_in(client) is None
            assert client.get("/ui/user").status_code == 401
            login = client.post("/ui/auth/header", headers={"X-Forwarded-User": "cem"})
            assert login.status_code == 200 and logged_in(client) == "cem"
    finally:
        services.db.close()
