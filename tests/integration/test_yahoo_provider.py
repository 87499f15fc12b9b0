"""YFinanceProvider against a fake Yahoo on 127.0.0.1: the real yfinance request and parsing code
runs; only the Yahoo hosts are redirected to the fake server by the session we hand in."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from knowledge.errors import ProviderError
from knowledge.market.yahoo import COLUMNS, YFinanceProvider
from tests.fakes.yahoo_server import CHART_PREFIX, CHART_REQUESTS_PER_FAILED_ATTEMPT, FakeYahoo

pytestmark = pytest.mark.integration


@pytest.fixture
def yahoo() -> Iterator[FakeYahoo]:
    """A fresh fake Yahoo per test, stopped (and its held requests released) afterwards."""
    with FakeYahoo() as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    """Backoff waits the provider asked for; recorded instead of slept."""
    return []


def provider_for(server: FakeYahoo, sleeps: list[float], **options: Any) -> YFinanceProvider:
    """A provider talking to `server`, waiting through `sleeps`."""
    return YFinanceProvider(session=server.session(), sleep=sleeps.append, **options)


def assert_contract_shape(bars: pd.DataFrame) -> None:
    """The frame shape every caller relies on."""
    assert list(bars.columns) == list(COLUMNS)
    assert all(dtype == np.float64 for dtype in bars.dtypes)
    assert isinstance(bars.index, pd.DatetimeIndex)
    assert bars.index.name == "ts"
    assert str(bars.index.tz) == "UTC"
    assert bars.index.is_monotonic_increasing and bars.index.is_unique
    assert not bars[["open", "high", "low", "close"]].isna().any().any()


def assert_same_bars(bars: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same timestamps and exactly the same numbers."""
    assert list(bars.index) == list(expected.index)
    np.testing.assert_array_equal(bars.to_numpy(), expected[list(COLUMNS)].to_numpy())


def test_daily_fetch_returns_the_servers_bars_exactly(
    yahoo: FakeYahoo, sleeps: list[float]
) -> None:
    bars = provider_for(yahoo, sleeps).fetch("BTC-USD", "1d")

    assert_contract_shape(bars)
    expected = yahoo.bars("BTC-USD", "1d")
    assert_same_bars(bars, expected)
    assert bars.index[-1] == pd.Timestamp(yahoo.now.date(), tz="UTC")  # today's (live) bar
    (request,) = yahoo.history_requests("BTC-USD")
    assert request.query["interval"] == "1d"
    assert int(request.query["period1"]) <= expected.index[0].timestamp()  # full history
    assert sleeps == []


def test_incremental_fetch_asks_only_from_start(yahoo: FakeYahoo, sleeps: list[float]) -> None:
    expected = yahoo.bars("BTC-USD", "1d")
    start = expected.index[-5].to_pydatetime()  # the last stored bar, refreshed again

    bars = provider_for(yahoo, sleeps).fetch("BTC-USD", "1d", start=start)

    (request,) = yahoo.history_requests("BTC-USD")
    assert int(request.query["period1"]) == int(start.timestamp())
    assert_contract_shape(bars)
    assert (bars.index >= start).all()
    assert_same_bars(bars, expected.loc[start:])
    assert len(bars) == 5


def test_hourly_fetch_returns_hourly_bars(yahoo: FakeYahoo, sleeps: list[float]) -> None:
    expected = yahoo.bars("ETH-USD", "1h")
    provider = provider_for(yahoo, sleeps)

    recent = provider.fetch("ETH-USD", "1h", start=expected.index[-48].to_pydatetime())
    assert_contract_shape(recent)
    assert_same_bars(recent, expected.iloc[-48:])
    assert (recent.index.to_series().diff().dropna() == pd.Timedelta(hours=1)).all()

    everything = provider.fetch("ETH-USD", "1h")  # no start: as far back as Yahoo serves hourly
    assert_same_bars(everything, expected)
    first_asked = int(yahoo.history_requests("ETH-USD")[-1].query["period1"])
    clamp = (datetime.now(UTC) - timedelta(days=729)).timestamp()
    assert abs(first_asked - clamp) < 120
    assert yahoo.history_requests("ETH-USD")[-1].query["interval"] == "1h"


def test_bars_without_prices_are_dropped(yahoo: FakeYahoo, sleeps: list[float]) -> None:
    expected = yahoo.bars("BTC-USD", "1d")
    hole = expected.index[-3]
    yahoo.blank_prices("BTC-USD", "1d", hole)

    bars = provider_for(yahoo, sleeps).fetch("BTC-USD", "1d", start=expected.index[-6])

    assert_contract_shape(bars)
    assert hole not in bars.index
    assert_same_bars(bars, expected.iloc[-6:].drop(index=hole))


def test_two_server_errors_then_success_backs_off(yahoo: FakeYahoo, sleeps: list[float]) -> None:
    yahoo.fail_attempts(2, status=500)

    bars = provider_for(yahoo, sleeps, retries=3, backoff_seconds=0.5).fetch("ETH-USD", "1d")

    assert_same_bars(bars, yahoo.bars("ETH-USD", "1d"))
    assert sleeps == [0.5, 1.0]
    failed = [r for r in yahoo.requests if r.status == 500]
    assert len(failed) == 2 * CHART_REQUESTS_PER_FAILED_ATTEMPT


@pytest.mark.parametrize("status", [429, 500])
def test_persistent_failure_raises_after_exactly_the_retries(
    yahoo: FakeYahoo, sleeps: list[float], status: int
) -> None:
    yahoo.fail_always(status)

    with pytest.raises(ProviderError) as caught:
        provider_for(yahoo, sleeps, retries=2, backoff_seconds=1.0).fetch("BTC-USD", "1d")

    message = str(caught.value)
    assert "BTC-USD" in message and "3 attempt(s)" in message
    if status == 429:
        assert "rate limit" in message.lower()
    assert sleeps == [1.0, 2.0]
    chart_requests = [r for r in yahoo.requests if r.path.startswith(CHART_PREFIX)]
    assert len(chart_requests) == 3 * CHART_REQUESTS_PER_FAILED_ATTEMPT
    assert all(r.status == status for r in chart_requests)


def test_hanging_server_gives_up_after_the_timeout(yahoo: FakeYahoo, sleeps: list[float]) -> None:
    yahoo.hang(seconds=30)
    provider = provider_for(yahoo, sleeps, timeout=0.5, retries=1, backoff_seconds=0.25)

    began = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        provider.fetch("BTC-USD", "1d")
    elapsed = time.monotonic() - began

    assert 0.9 <= elapsed < 2.5  # two attempts of ~0.5 s each, not yfinance's 10-30 s defaults
    assert "BTC-USD" in str(caught.value)
    assert "timed out" in str(caught.value).lower()
    assert sleeps == [0.25]


def test_unknown_symbol_is_a_provider_error(yahoo: FakeYahoo, sleeps: list[float]) -> None:
    with pytest.raises(ProviderError) as caught:
        provider_for(yahoo, sleeps, retries=1).fetch("NOPE-USD", "1d")

    assert "NOPE-USD" in str(caught.value)
    assert "unknown or delisted" in str(caught.value)
    assert sleeps == [1.0]
    assert all(r.status == 404 for r in yahoo.requests if r.path == CHART_PREFIX + "NOPE-USD")
