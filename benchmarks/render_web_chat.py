"""Screenshots of the web chat's landing page, store empty then loaded, for the README.

Serves the API with its web chat (uvicorn, loopback) on a throw-away embedded Postgres with no
market data, opens /ui/ in Debian's chromium and saves the page with the "no market data" hint;
then imports the shared daily prices (or seeded synthetic bars when they are missing) and saves
a new chat's landing page with its starters. Nothing leaves the machine: the page's web fonts
and CDN stylesheet are not fetched.

    .venv/bin/python benchmarks/render_web_chat.py [--out docs/images] [--theme light|dark]
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from common import ROOT, SHARED_PRICES, scratch_postgres
from playwright.sync_api import Browser, Route, expect, sync_playwright

from agent.core import Services
from agent.settings import Settings
from api.main import create_app
from tests.servers import serve_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 760}


@contextmanager
def served(services: Services) -> Iterator[str]:
    """The API with the web chat on a free loopback port; yields its base URL."""
    with serve_app(create_app(services.settings, services)) as url:
        yield url


def load_prices(services: Services, folder: Path) -> str:
    """Import the shared daily prices, or synthetic bars when they are not there."""
    if SHARED_PRICES.is_dir():
        services.market.import_paths([SHARED_PRICES])
        return f"imported {SHARED_PRICES}"
    from tests.factories import synthetic_bars, write_csv

    for seed, coin in enumerate(("BTC", "ETH", "SOL"), start=1):
        write_csv(folder, f"{coin}-USD.csv", synthetic_bars(400, seed=seed, price=100.0 * seed))
    services.market.import_paths([folder])
    return "imported synthetic bars (no shared prices found)"


def shoot(browser: Browser, url: str, theme: str, target: Path, empty: bool) -> None:
    """Open a new chat at `url` and save the landing page once it is complete."""

    def local_only(route: Route) -> None:
        if route.request.url.startswith(url):
            route.continue_()
        else:
            route.abort()

    page = browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
    page.set_default_timeout(30_000)
    page.route("**/*", local_only)
    page.add_init_script(f"localStorage.setItem('vite-ui-theme', '{theme}')")
    page.goto(f"{url}/ui/")
    expect(page.locator("#starters")).to_be_visible()
    hint = page.locator('[data-step-type="system_message"]')
    if empty:
        expect(hint).to_be_visible()
    page.wait_for_timeout(1200)  # the welcome screen's fade-in
    if not empty and hint.count():
        raise SystemExit("the loaded store still shows the empty-store hint")
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), animations="disabled")
    page.close()
    print(f"saved {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    args = parser.parse_args()
    with scratch_postgres() as database, tempfile.TemporaryDirectory() as tmp:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=database,
            data_home=Path(tmp) / "var",
            market_provider="none",
            load_data_on_start=False,
        )
        services = Services.build(settings)
        try:
            with served(services) as url, sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    shoot(browser, url, args.theme, args.out / "web-chat-empty-store.png", True)
                    print(load_prices(services, Path(tmp)))
                    shoot(browser, url, args.theme, args.out / "web-chat-landing.png", False)
                finally:
                    browser.close()
        finally:
            services.db.close()


if __name__ == "__main__":
    main()
