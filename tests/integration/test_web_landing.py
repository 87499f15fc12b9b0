"""The web chat's first impression in a real browser (Debian's chromium): name, logo, landing.

On an empty store a new chat says so, with the command that loads market data, and offers only
the questions that need no data; once bars are stored the next new chat shows the full
starters and no hint. The page carries the assistant's own name, logo and favicon, and loads
with no CSP violation in either state.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.core import Services
from api.main import create_app
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv
from tests.integration.test_web_chat import CHROMIUM_ARGS, _chromium, _local_only
from tests.servers import serve_app
from ui.app import CONCEPT_STARTERS, STARTERS

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # reported as a failure by `_chromium`, not as a collection error
    sync_playwright = None  # type: ignore[assignment]

pytestmark = pytest.mark.integration

NAME = "Crypto Assistant"
COMMAND = "crypto-assistant data import"
HINT = "No market data is stored yet"
LOGO_LOADED = """() => {
    const logo = document.querySelector('#welcome-screen img.logo');
    return logo !== null && logo.complete && logo.naturalWidth > 0;
}"""
COLLECT_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(
    {directive: e.violatedDirective, blocked: e.blockedURI}));
"""


@pytest.fixture
def live_url(services: Services) -> Iterator[str]:
    """The API with the web chat under uvicorn on a free loopback port, on an empty store."""
    with serve_app(create_app(services.settings, services)) as url:
        yield url


def _open(browser: Browser, live_url: str, console: list[str]) -> Page:
    """A new page on /ui/ (a new chat), with its CSP violations collected."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(30_000)
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(COLLECT_VIOLATIONS)
    page.route("**/*", _local_only(live_url))
    page.goto(f"{live_url}/ui/")
    return page


def _violations(page: Page, console: list[str]) -> list[Any]:
    found: list[Any] = page.evaluate("window.__csp")
    return found + [m for m in console if "Content Security Policy" in m]


def _starter_labels(page: Page) -> list[str]:
    starters = page.locator("#starters button")
    expect(starters.first).to_be_visible()
    return [text.strip() for text in starters.all_inner_texts()]


def test_the_landing_page_says_how_to_load_data_until_there_is_some(
    live_url: str, services: Services, tmp_path: Path
) -> None:
    executable = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            console: list[str] = []
            page = _open(browser, live_url, console)
            expect(page).to_have_title(NAME)
            logo = page.locator("#welcome-screen img.logo")
            expect(logo).to_be_visible()
            page.wait_for_function(LOGO_LOADED)  # our image, decoded: not a broken one
            hint = page.locator('[data-step-type="system_message"]')
            expect(hint).to_contain_text(HINT)
            expect(hint).to_contain_text(COMMAND)
            # the welcome screen stays: the composer and the questions that need no data
            expect(page.locator("#chat-input")).to_be_visible()
            assert _starter_labels(page) == [s.label for s in CONCEPT_STARTERS]
            assert _violations(page, console) == []
            page.close()

            # bars arrive while the server runs: the next new chat has no hint
            bars = write_csv(tmp_path, "BTC-USD.csv", synthetic_bars(300, seed=3))
            import_file(services.prices, bars)
            console = []
            page = _open(browser, live_url, console)
            assert _starter_labels(page) == [s.label for s in STARTERS]
            expect(page.locator("#welcome-screen img.logo")).to_be_visible()
            page.wait_for_timeout(500)  # a hint would have arrived with the session by now
            expect(page.get_by_text(HINT)).to_have_count(0)
            expect(page.locator('[data-step-type="system_message"]')).to_have_count(0)
            assert _violations(page, console) == []
        finally:
            browser.close()


def test_the_page_serves_its_own_name_logo_and_favicon(live_url: str) -> None:
    page = httpx.get(f"{live_url}/ui/", headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 200
    assert f"<title>{NAME}</title>" in page.text
    assert 'href="/ui/favicon"' in page.text
    for path in ("/ui/logo?theme=light", "/ui/logo?theme=dark", "/ui/favicon"):
        image = httpx.get(f"{live_url}{path}", timeout=30)
        assert image.status_code == 200, path
        assert image.headers["content-type"].startswith("image/svg+xml"), path
        assert b"<svg" in image.content and b"Chainlit" not in image.content, path
    assert b"Crypto Assistant" in httpx.get(f"{live_url}/ui/logo?theme=dark").content
