"""The one `as_of` rule (`knowledge.as_of`) for front-ends, which do not import `knowledge`, and
the date field types that parse by it: the REST routes and the agent's tool arguments share them,
so a midnight date-time stays an instant wherever it comes from."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from knowledge.as_of import (
    DATE_MAX,
    DATE_MIN,
    DateOutOfRangeError,
    as_of_instant,
    check_date_range,
    parse_as_of,
)

__all__ = [
    "DATE_MAX",
    "DATE_MIN",
    "DateOutOfRangeError",
    "IsoDate",
    "IsoDateOrTime",
    "as_of_instant",
    "check_date_range",
    "parse_as_of",
]

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_EXPECTED = "expected a date as YYYY-MM-DD or an ISO 8601 date-time"


def _iso_only(value: Any) -> Any:
    """Refuse bare numbers for dates: pydantic would read them as Unix timestamps, so
    `as_of=2024` silently meant 1970-01-01T00:33:44 instead of a 422."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number or (isinstance(value, str) and _NUMBER.fullmatch(value.strip())):
        raise ValueError(_EXPECTED)
    return value


def _date_or_time(value: Any) -> Any:
    """Parse text by its shape: "YYYY-MM-DD" is a date, anything longer a date-time, so a
    midnight date-time keeps its offset instead of being read as a whole day (look-ahead)."""
    value = _iso_only(value)
    if isinstance(value, str):
        try:
            return parse_as_of(value)
        except ValueError:
            raise ValueError(_EXPECTED) from None
    return value


def _in_range(value: date) -> date:
    """Refuse dates no data can have (year 1, 9999, ...) before any arithmetic."""
    check_date_range(value)
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_only), AfterValidator(_in_range)]
IsoDateOrTime = Annotated[
    datetime | date, BeforeValidator(_date_or_time), AfterValidator(_in_range)
]
