"""Calendar dates and windows a message names: "2024-03-01", "March 1 2024", "1st of March,
2024"; "from 2024-01-01 to 2024-02-15", "between March 1 2024 and April 2 2024"; "March 2024",
"2024-03"; "in 2023", "2023's high", "since 2024"."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from agent.offline.intents import MONTHS

_MONTH = r"(?P<mon>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")[a-z]*\.?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
_DATES = (
    re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b"),
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})\b"),
    re.compile(
        rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+(?P<year>\d{{4}})\b"
    ),
)
# what joins the two ends of a window: "to", "and", "until", "through", a dash
_JOIN = re.compile(r"^\s*(?:to|and|until|till|through|thru|-|–|—)\s*$")
_MONTHS_OF_YEAR = (
    re.compile(rf"\b{_MONTH},?\s+(?:of\s+)?{_YEAR}\b"),
    re.compile(rf"\b{_YEAR}-(?P<month>\d{{2}})\b(?!-\d)"),
)
_WHOLE_YEAR = (
    re.compile(rf"\b(?:in|of|during|for|throughout|over|across)\s+(?:the\s+year\s+)?{_YEAR}\b"),
    re.compile(rf"\b{_YEAR}(?:'s|’s)\b"),
    re.compile(rf"\bthe\s+{_YEAR}\s+(?:high|low|range|peak|bottom|top|price)"),
)
_SINCE_YEAR = re.compile(rf"\bsince\s+{_YEAR}\b")


@dataclass(frozen=True)
class DateWindow:
    """A window of UTC days, both ends included."""

    start: date
    end: date


def _dates(lowered: str) -> list[tuple[int, int, date]]:
    """Every explicit calendar date with where it stands (start, end), in order."""
    found: list[tuple[int, int, date]] = []
    for regex in _DATES:
        for match in regex.finditer(lowered):
            parts = match.groupdict()
            month = int(parts["month"]) if parts.get("month") else MONTHS[parts["mon"]]
            try:
                day = date(int(parts["year"]), month, int(parts["day"]))
            except ValueError:
                continue
            if not any(s <= match.start() < e for s, e, _ in found):
                found.append((match.start(), match.end(), day))
    return sorted(found)


def extract_as_of(text: str) -> date | None:
    """The first explicit calendar date of a message."""
    found = _dates(text.lower())
    return found[0][2] if found else None


def _month_window(year: int, month: int) -> DateWindow | None:
    if not 1 <= month <= 12:
        return None
    return DateWindow(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))


def extract_window(text: str, today: date) -> DateWindow | None:
    """The window of days a message asks about, if it names one (a lone date is not one)."""
    lowered = text.lower()
    found = _dates(lowered)
    if len(found) >= 2 and _JOIN.match(lowered[found[0][1] : found[1][0]]):
        first, second = sorted((found[0][2], found[1][2]))
        return DateWindow(first, second)
    if found:
        return None  # one calendar day: `as_of`
    for regex in _MONTHS_OF_YEAR:
        match = regex.search(lowered)
        if match:
            parts = match.groupdict()
            month = int(parts["month"]) if parts.get("month") else MONTHS[parts["mon"]]
            return _month_window(int(parts["year"]), month)
    for regex in _WHOLE_YEAR:
        match = regex.search(lowered)
        if match:
            year = int(match.group("year"))
            return DateWindow(date(year, 1, 1), date(year, 12, 31))
    match = _SINCE_YEAR.search(lowered)
    if match and int(match.group("year")) <= today.year:
        return DateWindow(date(int(match.group("year")), 1, 1), today)
    return None
