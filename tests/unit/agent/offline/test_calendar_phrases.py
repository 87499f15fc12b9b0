"""Dates people write without an ISO form: holidays, days without their year, numeric dates,
quarters, halves, "a year ago today" and "the week starting ..."."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.offline.dates import DateWindow, extract_as_of, extract_window
from agent.offline.entities import extract_durations
from agent.offline.windows import relative_window

TODAY = date(2025, 12, 31)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("what was doge worth on christmas day 2021", date(2021, 12, 25)),
        ("what was it on new year's day 2024?", date(2024, 1, 1)),
        ("btc on new years eve 2022", date(2022, 12, 31)),
        ("eth on halloween 2023", date(2023, 10, 31)),
        ("sol last christmas", date(2025, 12, 25)),
        ("and christmas last year?", date(2024, 12, 25)),
        ("btc on 3/3/23", date(2023, 3, 3)),
        ("price of btc 12.01.2023", date(2023, 1, 12)),  # dots: day first
        ("btc price on march 3rd", date(2025, 3, 3)),  # the latest March 3rd
        ("where was atom a year ago today?", date(2024, 12, 31)),
        ("the 4th of july 2024 btc", date(2024, 7, 4)),
    ],
)  # fmt: skip
def test_a_day_written_in_words_or_numbers_is_found(text: str, day: date) -> None:
    assert extract_as_of(text, TODAY) == day


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("ATOM between April 1st and April 15th 2024", date(2024, 4, 1), date(2024, 4, 15)),
        ("eth in Q2 2022", date(2022, 4, 1), date(2022, 6, 30)),
        ("what did it do in q1 this year", date(2025, 1, 1), date(2025, 3, 31)),
        ("first half of 2023 eth high", date(2023, 1, 1), date(2023, 6, 30)),
        ("sol h2 2024", date(2024, 7, 1), date(2024, 12, 31)),
        ("the last quarter of 2021", date(2021, 10, 1), date(2021, 12, 31)),
        ("XRP high during the week starting Monday March 4th 2024", date(2024, 3, 4),
         date(2024, 3, 10)),
        ("and 2022?", date(2022, 1, 1), date(2022, 12, 31)),
    ],
)  # fmt: skip
def test_a_named_period_is_read_with_both_ends(text: str, start: date, end: date) -> None:
    window = extract_window(text, TODAY)
    assert window is not None and (window.start, window.end) == (start, end)


@pytest.mark.parametrize(
    "text", ["will btc drop by may 5%", "BTC may 10k soon?", "eth up 3/4 of a percent"]
)
def test_words_that_only_look_like_dates_are_not_dates(text: str) -> None:
    assert extract_as_of(text, TODAY) is None and extract_window(text, TODAY) is None


def test_the_words_dating_a_day_are_not_also_a_look_back() -> None:
    assert extract_durations("and christmas last year?", TODAY)[0] is None
    assert extract_durations("how did it do last year?", TODAY)[0] == 365


def test_a_part_of_the_last_window_s_year_follows_it() -> None:
    last = DateWindow(date(2023, 3, 1), date(2023, 3, 31))
    assert relative_window("and q2?", last) == DateWindow(date(2023, 4, 1), date(2023, 6, 30))
    assert relative_window("second half?", last) == DateWindow(date(2023, 7, 1), date(2023, 12, 31))
    assert relative_window("the whole month", last) == last
    assert relative_window("and q2?", None) is None


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)))
def test_every_numeric_date_reads_back_as_itself(day: date) -> None:
    assert extract_as_of(f"btc on {day.month}/{day.day}/{day.year}", TODAY) == day
    assert extract_as_of(f"btc on {day.day}.{day.month}.{day.year}", TODAY) == day
