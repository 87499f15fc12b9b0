"""Refreshing from yfinance (against the local fake Yahoo): incremental, stale when it fails."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from agent.core import Services
from agent.services.startup import load_market_data
from agent.settings import Settings
from api.main import create_app
from cli.main import app as cli
from knowledge.market.yahoo import YFinanceProvider
from tests.factories import synthetic_bars, write_csv
from tests.fakes.yahoo_server import FakeYahoo


@pytest.fixture
def yahoo() -> Iterator[FakeYahoo]:
    with FakeYahoo() as server:
        yield server


@pytest.fixture
def services_on_yahoo(
    make_settings: Callable[..., Settings], yahoo: FakeYahoo
) -> Iterator[Services]:
    provider = YFinanceProvider(session=yahoo.session(), retries=1, sleep=lambda s: None)
    built = Services.build(make_settings(), provider=provider)
    yield built
    built.db.close()


def test_first_refresh_stores_history_and_the_next_is_incremental(
    services_on_yahoo: Services, yahoo: FakeYahoo
) -> None:
    (first,) = services_on_yahoo.market.refresh(["btc"])
    stored = services_on_yahoo.prices.read("BTC-USD", "1d")
    served = yahoo.bars("BTC-USD", "1d")
    assert first.ok and first.written == len(served)
    pd.testing.assert_series_equal(
        stored["close"], served["close"].astype(float), check_names=False, check_freq=False
    )

    yahoo.clear_requests()
    (second,) = services_on_yahoo.market.refresh(["BTC-USD"])
    asked = yahoo.history_requests("BTC-USD")[-1].query
    assert second.ok and second.written == 0
    assert int(asked["period1"]) == int(stored.index[-1].timestamp())  # from the last stored bar
    assert len(services_on_yahoo.prices.read("BTC-USD", "1d")) == len(served)


def test_a_failing_provider_leaves_stored_data_served_and_marked_stale(
    services_on_yahoo: Services, yahoo: FakeYahoo
) -> None:
    services_on_yahoo.market.refresh(["BTC-USD"])
    yahoo.fail_always(500)
    (result,) = services_on_yahoo.market.refresh(["BTC-USD"])
    assert not result.ok and "BTC-USD" in result.message
    with TestClient(create_app(services_on_yahoo.settings, services_on_yahoo)) as client:
        body = client.get("/historical-data/BTC-USD").json()
    assert len(body["rows"]) == len(yahoo.bars("BTC-USD", "1d"))
    assert body["freshness"]["stale"] is True
    assert body["freshness"]["reason"].startswith("refresh failed")

    yahoo.heal()
    (again,) = services_on_yahoo.market.refresh(["BTC-USD"])
    assert again.ok
    assert services_on_yahoo.market.freshness("BTC-USD", "1d").stale is False


def test_cli_refresh_reports_each_symbol(
    database_url: str, yahoo: FakeYahoo, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setattr("knowledge.market.yahoo.default_session", yahoo.session)
    env = {"DATABASE_URL": database_url, "PROVIDER_RETRIES": "0", "DATA_HOME": str(tmp_path)}
    res = CliRunner().invoke(cli, ["data", "refresh", "btc", "eth", "sol"], env=env)
    # SOL is not served by the fake: reported as stale, exit status 1, the others stored
    assert res.exit_code == 1, res.output
    assert "BTC-USD" in res.output and "ETH-USD" in res.output
    assert "stale" in res.output and "1 symbol(s) could not be refreshed" in res.output


def test_start_up_without_data_or_provider_says_so(
    services_on_yahoo: Services, yahoo: FakeYahoo
) -> None:
    yahoo.fail_always(500)
    message = load_market_data(services_on_yahoo.market, services_on_yahoo.settings.crypto_data_dir)
    assert "provider could not be reached" in message
    assert "no market data could be loaded" in message
    assert "CRYPTO_DATA_DIR" in message


def test_start_up_imports_crypto_data_dir_in_the_background(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    folder = tmp_path / "prices"
    folder.mkdir()
    write_csv(folder, "SOL-USD.csv", synthetic_bars(30))
    settings = make_settings(crypto_data_dir=folder, load_data_on_start=True)
    services = Services.build(settings)
    with TestClient(create_app(settings, services)) as client:
        deadline = time.monotonic() + 20
        rows = 0
        while time.monotonic() < deadline and rows == 0:
            coins = {c["symbol"]: c for c in client.get("/cryptocurrencies").json()}
            rows = coins["SOL-USD"]["rows"]
            time.sleep(0.1)
        assert rows == 30
        assert client.get("/historical-data/sol").status_code == 200
    services.db.close()
