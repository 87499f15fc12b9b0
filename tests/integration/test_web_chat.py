"""The web chat in a real browser: the API with its Chainlit UI under uvicorn, Debian's chromium.

One turn end to end: the question typed in /ui, the tool step shown, the answer streamed, and
the RSI it quotes equal to the one `POST /technical` returns on the same server.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from agent.services import Services
from api.main import create_app
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv
from tests.servers import free_port

try:
    from playwright.sync_api import Route, expect, sync_playwright
except ImportError:  # reported as a failure by the test, not as a collection error
    sync_playwright = None  # type: ignore[assignment]

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "What is the RSI of BTC?"
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
    """The API with the web chat on a free loopback port, on synthetic BTC data."""
    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", synthetic_bars(300, seed=11)))
    app = create_app(services.settings, services)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=free_port(),
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
    )

    async def serve() -> None:
        try:
            await server.serve()
        finally:  # the chat memory was opened on this loop: close it here
            if services.memory is not None:
                await services.memory.close()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the API did not start under uvicorn")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(timeout=15)


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
