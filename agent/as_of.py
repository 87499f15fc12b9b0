"""The one `as_of` rule (`knowledge.as_of`), for front-ends, which do not import `knowledge`."""

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
    "as_of_instant",
    "check_date_range",
    "parse_as_of",
]
