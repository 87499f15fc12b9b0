"""Past prices: a day's bar, a window's high and low, and windows the stored bars do not cover,
through the tool and through the chat."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.core import Services
from agent.errors import NotFoundError
from agent.offline import formatting as fmt
from agent.services.price_window import price_window
from agent.settings import Settings
from api.main import create_app
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv

pytestmark = pytest.mark.integration

DAILY = synthetic_bars(200, seed=5, start="2024-01-01")  # to 2024-07-18


@pytest.fixture
def services(make_settings: Callable[..., Settings], tmp_path: Path) -> Iterator[Services]:
    built = Services.build(make_settings(rate_limit_data_per_minute=100_000))
    import_file(built.prices, write_csv(tmp_path, "ETH-USD.csv", DAILY))
    yield built
    built.db.close()


async def test_a_day_is_that_days_bar(services: Services) -> None:
    day = await price_window(services.market, "eth", date(2024, 3, 1))
    bar = DAILY.loc["2024-03-01"]
    assert (day["first_bar"], day["last_bar"], day["bars"]) == ("2024-03-01", "2024-03-01", 1)
    assert day["close"] == pytest.approx(bar["close"]) and day["high"] == pytest.approx(bar["high"])
    assert day["note"] is None


async def test_a_month_has_its_high_and_low_with_their_dates(services: Services) -> None:
    march = await price_window(services.market, "ETH-USD", date(2024, 3, 1), date(2024, 3, 31))
    bars = DAILY.loc["2024-03-01":"2024-03-31"]
    assert march["bars"] == 31
    assert march["high"] == pytest.approx(bars["high"].max())
    assert march["high_on"] == bars["high"].idxmax().strftime("%Y-%m-%d")
    assert march["low_on"] == bars["low"].idxmin().strftime("%Y-%m-%d")
    expected = (bars["close"].iloc[-1] / bars["open"].iloc[0] - 1) * 100
    assert march["change_pct"] == pytest.approx(expected, abs=0.01)


async def test_a_window_partly_stored_says_which_part(services: Services) -> None:
    year = await price_window(services.market, "ETH", date(2023, 12, 1), date(2024, 12, 31))
    assert (year["first_bar"], year["last_bar"]) == ("2024-01-01", "2024-07-18")
    assert (
        "start on 2024-01-01" in year["note"]
        and "latest stored bar is from 2024-07-18" in year["note"]
    )
    whole = await price_window(services.market, "ETH", date(2024, 1, 1), date(2024, 7, 18))
    assert whole["note"] is None


async def test_a_window_not_stored_is_no_answer_but_names_the_stored_range(
    services: Services,
) -> None:
    with pytest.raises(NotFoundError) as info:
        await price_window(services.market, "ETH", date(2031, 1, 1))
    assert "2031-01-01" in str(info.value) and "2024-01-01 to 2024-07-18" in str(info.value)


async def test_a_hole_inside_the_window_is_said(services: Services, tmp_path: Path) -> None:
    holed = DAILY.drop(DAILY.loc["2024-03-10":"2024-03-14"].index)
    import_file(services.prices, write_csv(tmp_path, "SOL-USD.csv", holed))
    march = await price_window(services.market, "SOL", date(2024, 3, 1), date(2024, 3, 31))
    assert march["bars"] == 26 and "5 of the 31 days in it have no stored bar" in march["note"]
    with pytest.raises(NotFoundError, match="with a gap there"):
        await price_window(services.market, "SOL", date(2024, 3, 11), date(2024, 3, 12))


async def test_todays_unfinished_bar_is_not_used(services: Services, tmp_path: Path) -> None:
    today = datetime.now(UTC).date()
    recent = synthetic_bars(10, seed=3, start=(today - timedelta(days=9)).isoformat())
    import_file(services.prices, write_csv(tmp_path, "ADA-USD.csv", recent))
    window = await price_window(services.market, "ADA", today - timedelta(days=5), today)
    assert window["last_bar"] == (today - timedelta(days=1)).isoformat()  # the last closed day
    assert window["close"] == pytest.approx(recent["close"].iloc[-2])


def test_the_chat_answers_dated_and_window_questions_from_those_bars(services: Services) -> None:
    """The old planner answered these with the latest close (2024-07-18)."""
    with TestClient(create_app(services.settings, services)) as api:

        def ask(question: str) -> str:
            reply = api.post("/chat", json={"message": question}).json()
            assert reply["grounded"], reply
            return str(reply["answer"])

        day = ask("What was the price of ETH on 2024-03-01?")
        assert fmt.price(float(DAILY.loc["2024-03-01", "close"])) in day and "2024-03-01" in day
        march = ask("what were the high and low of ethereum in march 2024?")
        bars = DAILY.loc["2024-03-01":"2024-03-31"]
        assert fmt.price(float(bars["high"].max())) in march
        assert fmt.price(float(bars["low"].min())) in march
        later = ask("ETH on 2031-01-01?")
        assert "no 1d bar" in later and "2024-07-18" in later
