"""Dates and windows of days as people write them, and the price questions they route."""

from __future__ import annotations

from datetime import date

import pytest

from agent.offline.dates import DateWindow, extract_as_of, extract_window
from agent.offline.planner import ConversationContext, plan_turn
from agent.toolkit import GET_PRICE, PRICE_HISTORY, TABLE

TODAY = date(2025, 3, 15)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("BTC high and low in March 2024", date(2024, 3, 1), date(2024, 3, 31)),
        ("eth in feb 2024?", date(2024, 2, 1), date(2024, 2, 29)),  # a leap year
        ("SOL over 2024-03", date(2024, 3, 1), date(2024, 3, 31)),
        ("what was the high of BTC in 2024", date(2024, 1, 1), date(2024, 12, 31)),
        ("2023's low for doge", date(2023, 1, 1), date(2023, 12, 31)),
        ("the 2022 peak of ETH", date(2022, 1, 1), date(2022, 12, 31)),
        ("ETH from 2024-01-01 to 2024-02-15", date(2024, 1, 1), date(2024, 2, 15)),
        ("between March 1 2024 and April 2 2024", date(2024, 3, 1), date(2024, 4, 2)),
        ("2024-02-15 - 2024-01-01 for ADA", date(2024, 1, 1), date(2024, 2, 15)),  # any order
        ("how did DOGE do since 2023", date(2023, 1, 1), TODAY),
        ("ETH in september 2023", date(2023, 9, 1), date(2023, 9, 30)),
        ("BTC from jan 2024 to mar 2024", date(2024, 1, 1), date(2024, 3, 31)),
        ("BTC from 2021 to 2023", date(2021, 1, 1), date(2023, 12, 31)),
    ],
)
def test_a_named_window_is_read_with_both_ends(text: str, start: date, end: date) -> None:
    assert extract_window(text, TODAY) == DateWindow(start, end)


@pytest.mark.parametrize(
    "text",
    [
        "price of BTC on 2024-03-01",  # one day: as_of, not a window
        "may I ask about BTC 2024 plans",  # "may" is no month without a year after it
        "BTC in 2024-13",  # no 13th month
        "forecast BTC for 7 days",
        "2024-01-01 or 2024-02-01",  # two dates without a joining word
        "BTC on 2024-01-01 and 2024-02-01",  # two days, not the days between them
        "BTC market 2024",  # "market" is no month
        "BTC junk 2020",
        "is ETH over 2000",  # a price level, not a year
        "what is BTC at for 2000 usd",
        "BTC price over 2000 days",
    ],
)
def test_no_window_where_none_is_named(text: str) -> None:
    assert extract_window(text, TODAY) is None


def test_a_lone_date_is_found_in_each_way_it_is_written() -> None:
    for text in ("2024-03-01", "March 1 2024", "1st of March, 2024", "mar 1st, 2024"):
        assert extract_as_of(f"ETH on {text}?") == date(2024, 3, 1), text
    assert extract_as_of("BTC on 2024-02-30") is None  # not a day


@pytest.mark.parametrize(
    ("question", "start", "end"),
    [
        ("What was the price of ETH on 2024-03-01?", "2024-03-01", "2024-03-01"),
        ("what was the high of BTC in 2024", "2024-01-01", "2024-12-31"),
        ("how much was solana worth in march 2024?", "2024-03-01", "2024-03-31"),
        ("XRP between 2024-01-01 and 2024-02-15", "2024-01-01", "2024-02-15"),
    ],
)
def test_dated_price_questions_ask_the_price_history_of_that_window(
    question: str, start: str, end: str
) -> None:
    """Before the price-history tool these were answered with the latest close."""
    plan = plan_turn(question, ConversationContext(), today=TODAY)
    [call] = plan.tool_calls
    assert call.name == PRICE_HISTORY
    assert (call.args["start"], call.args["end"]) == (start, end)
    TABLE[PRICE_HISTORY].args.model_validate(call.args)


def test_a_look_back_as_of_a_date_stays_a_look_back() -> None:
    [call] = plan_turn(
        "BTC 7-day change as of 2024-03-01", ConversationContext(), today=TODAY
    ).tool_calls
    assert call.name == GET_PRICE
    assert (call.args["period_days"], call.args["as_of"]) == (7, "2024-03-01")


def test_an_undated_price_question_still_asks_the_latest_close() -> None:
    [call] = plan_turn("what's BTC at?", ConversationContext(), today=TODAY).tool_calls
    assert call.name == GET_PRICE
