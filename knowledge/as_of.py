"""One `as_of` rule for every engine and route, so no answer sees past the moment it is asked for.

A date means the end of that UTC day's daily bar (the instant the next UTC day starts); a
date-time is an instant, converted to UTC (a naive one is read as UTC). A bar is visible once it
has closed (its start plus its length is at or before the instant); an item (a headline, a
document) is visible when it was published before the instant. Dates outside
`DATE_MIN`..`DATE_MAX` are refused, so arithmetic on them can never overflow.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from knowledge.errors import DataValidationError

__all__ = [
    "BAR_LENGTH",
    "DATE_MAX",
    "DATE_MIN",
    "DateOutOfRangeError",
    "as_of_instant",
    "check_date_range",
    "last_bar_start",
    "parse_as_of",
    "start_instant",
]

DATE_MIN = date(1970, 1, 1)
DATE_MAX = date(2100, 12, 31)
BAR_LENGTH: dict[str, timedelta] = {"1d": timedelta(days=1), "1h": timedelta(hours=1)}


class DateOutOfRangeError(DataValidationError, ValueError):
    """A date before `DATE_MIN` or after `DATE_MAX` (422): no data can exist there."""

    code = "date_out_of_range"

    @property
    def details(self) -> Any:
        return {"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()}

    def __init__(self, value: date | datetime) -> None:
        message = (
            f"date {value.isoformat()} is outside the supported range "
            f"{DATE_MIN.isoformat()} to {DATE_MAX.isoformat()}"
        )
        self.source = "as_of"
        self.problems = [(0, message)]
        Exception.__init__(self, message)


def check_date_range(value: date | datetime) -> None:
    """Raise `DateOutOfRangeError` when the calendar day of `value` is out of range (checked
    before any conversion, which could overflow near year 1 or 9999)."""
    if not DATE_MIN <= _day(value) <= DATE_MAX:
        raise DateOutOfRangeError(value)


def as_of_instant(value: date | datetime | str) -> datetime:
    """The UTC instant `value` stands for: a date (or "YYYY-MM-DD") is the start of the next UTC
    day; a date-time is itself, in UTC."""
    if isinstance(value, str):
        value = parse_as_of(value)
    check_date_range(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC) if _aware(value) else value.replace(tzinfo=UTC)
    return datetime.combine(value + timedelta(days=1), time(0), tzinfo=UTC)


def start_instant(value: date | datetime) -> datetime:
    """The UTC instant a window starts at: the start of that UTC day for a date."""
    check_date_range(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC) if _aware(value) else value.replace(tzinfo=UTC)
    return datetime.combine(value, time(0), tzinfo=UTC)


def last_bar_start(instant: datetime, interval: str) -> datetime:
    """The latest bar start whose bar has closed by `instant`: bars starting at or before this
    are visible, later ones are not."""
    return instant - BAR_LENGTH[interval]


def parse_as_of(text: str) -> date | datetime:
    """A date for "YYYY-MM-DD", otherwise an ISO 8601 date-time (a trailing "Z" is UTC); the
    type decides the meaning, so a midnight date-time stays an instant."""
    text = text.strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    return datetime.fromisoformat(text)


def _aware(value: date | datetime) -> bool:
    return isinstance(value, datetime) and value.utcoffset() is not None


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value
