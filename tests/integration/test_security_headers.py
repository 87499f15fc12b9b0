"""Security headers on every response, and a CSP each page works under (Debian's chromium).

Every answer (JSON, the docs pages, the web chat, errors, the gatekeeper's refusals, a 500)
carries `nosniff`, `DENY` framing and `no-referrer`, and a Content-Security-Policy per kind of
page; a header the app set itself is kept. In the browser, the web chat answers a question and
Swagger UI and ReDoc load with no CSP violation at all, while a script injected into the page is
blocked (the violation collector is shown to work). Offline, the docs pages' CDN bundles are
stand-ins served for their real URLs (so the policy is judged on those origins too); web fonts
and other outside loads fail, which is not judged; only violations are.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import Response
from fastapi.testclient import TestClient

from agent.core import Services
from api.headers import API_CSP, inline_script_hashes
from api.main import create_app
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv
from tests.servers import serve_app

try:
    from playwright.sync_api import Page, Route, expect, sync_playwright
except ImportError:  # reported as a failure by the browser tests, not as a collection error
    sync_playwright = None  # type: ignore[assignment]

pytestmark = pytest.mark.integration

BASE = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# records every CSP violation of the page, from its very first script on
COLLECT_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(
  {directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample}));
"""


def _secure(res: Any) -> str:
    """Assert the three fixed headers and return the CSP."""
    for name, value in BASE.items():
        assert res.headers.get(name) == value, (res.request.url, name, res.headers)
    csp = res.headers.get("content-security-policy")
    assert csp and "frame-ancestors 'none'" in csp, (res.request.url, csp)
    return str(csp)


def _directives(csp: str) -> dict[str, list[str]]:
    parts = (d.split() for d in csp.split(";") if d.strip())
    return {p[0]: p[1:] for p in parts}


def test_every_kind_of_response_carries_the_security_headers(
    app_factory: Callable[..., TestClient],
) -> None:
    client = app_factory(bars=synthetic_bars(60, seed=3), rate_limit_data_per_minute=2)
    for path in ("/", "/health", "/openapi.json", "/cryptocurrencies"):
        res = client.get(path)
        assert res.status_code == 200, path
        assert _secure(res) == API_CSP, path
    missing = client.get("/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert _secure(missing) == API_CSP
    assert _secure(client.head("/health")) == API_CSP

    limited = client.get("/cryptocurrencies")  # the gatekeeper's refusal, before any route
    assert limited.status_code == 429
    assert _secure(limited) == API_CSP
    too_large = client.post(
        "/chat", content=b"x" * 2_000_000, headers={"content-type": "application/json"}
    )
    assert too_large.status_code == 413
    assert _secure(too_large) == API_CSP
    too_long = client.get("/health", params={"q": "x" * 5000})
    assert too_long.status_code == 414
    assert _secure(too_long) == API_CSP


def test_docs_pages_allow_their_cdn_and_exactly_their_inline_script(
    client: TestClient,
) -> None:
    for path, inline in (("/docs", 1), ("/docs/oauth2-redirect", 1), ("/redoc", 0)):
        res = client.get(path)
        assert res.status_code == 200
        policy = _directives(_secure(res))
        assert policy["default-src"] == ["'none'"]
        hashes = inline_script_hashes(res.content)
        assert len(hashes) == inline, path  # Swagger UI's inline bootstrap script
        assert policy["script-src"] == ["'self'", "https://cdn.jsdelivr.net", *hashes]
        assert "'unsafe-inline'" not in policy["script-src"]
        assert "'unsafe-eval'" not in policy["script-src"]
    swagger = _directives(client.get("/docs").headers["content-security-policy"])
    assert "https://fastapi.tiangolo.com" in swagger["img-src"]  # the favicon
    assert "blob:" in swagger["worker-src"]  # ReDoc's search worker


def test_the_web_chat_page_allows_its_inline_scripts_by_hash(client: TestClient) -> None:
    page = client.get("/ui/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    policy = _directives(_secure(page))
    hashes = inline_script_hashes(page.content)
    assert len(hashes) >= 1
    assert policy["script-src"] == ["'self'", *hashes]
    assert policy["connect-src"] == ["'self'"]  # API calls and the socket: this origin only
    assert policy["object-src"] == ["'none'"]
    # a stylesheet or asset under /ui gets the same policy, with no hash to compute
    asset = re.search(rb'src="(/ui/assets/[^"]+\.js)"', page.content)
    assert asset is not None
    script = client.get(asset.group(1).decode())
    assert script.status_code == 200
    assert _directives(_secure(script))["script-src"] == ["'self'"]


def test_headers_the_app_sets_itself_are_kept_and_a_500_is_covered(
    services: Services,
) -> None:
    app = create_app(services.settings, services)

    def own() -> Response:
        return Response(
            "{}",
            media_type="application/json",
            headers={"X-Frame-Options": "SAMEORIGIN", "Content-Security-Policy": "sandbox"},
        )

    def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/test-own-headers", own)
    app.add_api_route("/test-boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        kept = client.get("/test-own-headers")
        assert kept.headers["x-frame-options"] == "SAMEORIGIN"
        assert kept.headers["content-security-policy"] == "sandbox"
        assert kept.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
        assert kept.headers["x-content-type-options"] == "nosniff"
        crash = client.get("/test-boom")
        assert crash.status_code == 500
        assert crash.json()["error"]["code"] == "internal_error"
        assert _secure(crash) == API_CSP


# --- in the browser ------------------------------------------------------------------------


def _chromium() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        pytest.fail(f"chromium not found at {path}: install it (apt-get install -y chromium)")
    if sync_playwright is None:
        pytest.fail("the playwright package is missing: pip install playwright")
    return path


@pytest.fixture
def live_url(services: Services, tmp_path: Path) -> Iterator[str]:
    """The API with the web chat under uvicorn on a free loopback port, on synthetic BTC bars."""
    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", synthetic_bars(300, seed=5)))
    with serve_app(create_app(services.settings, services)) as url:
        yield url


# Stand-ins for the docs pages' CDN bundles (offline): each fetches the schema from this origin
# and shows its title; ReDoc's also starts a `blob:` worker, as the real one does for search.
SHOW_TITLE = "fetch(u).then(r => r.json()).then(s => {{ {target}.textContent = s.info.title; }});"
SWAGGER_STUB = (
    "window.SwaggerUIBundle = Object.assign(function (c) { const u = c.url; "
    + SHOW_TITLE.format(target="document.getElementById('swagger-ui')")
    + " return {}; }, {presets: {apis: {}}, SwaggerUIStandalonePreset: {}});"
)
REDOC_STUB = (
    "const u = document.querySelector('redoc').getAttribute('spec-url'); "
    + SHOW_TITLE.format(target="document.querySelector('redoc')")
    + " new Worker(URL.createObjectURL(new Blob(['postMessage(1)'])));"
)
CDN_STUBS = {
    "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js": SWAGGER_STUB,
    "https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js": REDOC_STUB,
}


def _open(page: Page, live_url: str, path: str) -> None:
    def local_only(route: Route) -> None:  # CDNs and web fonts: never leave the machine
        url = route.request.url
        if url.startswith(live_url):
            route.continue_()
        elif url in CDN_STUBS:
            route.fulfill(body=CDN_STUBS[url], content_type="text/javascript")
        elif url.endswith(".css"):
            route.fulfill(body="body { margin: 0 }", content_type="text/css")
        else:
            route.abort()

    page.set_default_timeout(30_000)
    page.add_init_script(COLLECT_VIOLATIONS)
    page.route("**/*", local_only)
    page.goto(f"{live_url}{path}")


def _violations(page: Page, console: list[str]) -> list[Any]:
    found: list[Any] = page.evaluate("window.__csp")
    return found + [m for m in console if "Content Security Policy" in m]


def test_the_web_chat_answers_under_its_csp_with_no_violation(live_url: str) -> None:
    executable = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1200})
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))
            _open(page, live_url, "/ui")
            expect(page.locator("#starters")).to_be_visible()  # the socket is connected
            page.locator("#chat-input").fill("What is the RSI of BTC?")
            submit = page.locator("#chat-submit")
            expect(submit).to_be_enabled()
            submit.click()
            answer = page.locator('[data-step-type="assistant_message"] .message-content')
            expect(answer).to_contain_text(re.compile(r"RSI 14 -?\d+\.\d"))
            expect(answer.locator(".js-plotly-plot")).to_be_visible()  # the chart renders
            assert _violations(page, console) == []

            # the collector works: a script injected into the page is blocked and reported
            page.evaluate(
                "() => { const s = document.createElement('script');"
                " s.textContent = 'window.__injected = 1'; document.body.appendChild(s); }"
            )
            expect(page.locator("body")).to_be_visible()
            page.wait_for_function("window.__csp.length > 0")
            assert page.evaluate("window.__injected") is None
            assert page.evaluate("window.__csp")[0]["directive"].startswith("script-src")
        finally:
            browser.close()


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_docs_pages_load_with_no_csp_violation(live_url: str, path: str) -> None:
    executable = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))
            _open(page, live_url, path)
            # the bundle ran (and, for Swagger UI, the inline bootstrap calling it) and the
            # schema was fetched from this origin
            shown = page.locator("#swagger-ui" if path == "/docs" else "redoc")
            expect(shown).to_have_text("Crypto Analysis Assistant")
            page.wait_for_timeout(300)  # ReDoc's worker has started
            assert _violations(page, console) == []
        finally:
            browser.close()
