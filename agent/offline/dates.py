"""Calendar dates and windows a message names: "2024-03-01", "March 1 2024", "1st of March,
2024"; "from 2024-01-01 to 2024-02-15", "between March 1 2024 and April 2 2024"; "March 2024",
"2024-03", "jan 2024 to mar 2024"; "in 2023", "2023's high", "from 2021 to 2023", "since 2024".

Month names are whole words ("mar" and "march", never "market"); a year is a year only where
a year is meant ("in 2023", not "over 2000 usd").
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from agent.offline.calendar_phrases import (
    Mention,
    ago,
    holidays,
    numeric,
    quarter_or_half,
    week_of,
    yearless,
)
from agent.offline.lexicon import MONTH_PATTERN, MONTHS

_MONTH = MONTH_PATTERN
_YEAR = r"(?P<year>(?:19|20)\d{2})"
_NOT_AMOUNT = r"(?!\s*(?:usd|dollars?|\$|k\b|days?|bars?|weeks?|points?|%))"
_DATES = (
    re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b"),
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})\b"),
    re.compile(
        rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+(?P<year>\d{{4}})\b"
    ),
)
# what joins the two ends of a window: "to", "until", "through", a dash ("and" after "between")
_JOIN = re.compile(r"^\s*(?:to|until|till|through|thru|-|–|—)\s*$")
_AND = re.compile(r"^\s*and\s*$")
_BETWEEN = re.compile(r"\bbetween\s*$")
_MONTHS_OF_YEAR = (
    re.compile(rf"\b{_MONTH},?\s+(?:of\s+)?{_YEAR}\b"),
    re.compile(rf"\b{_YEAR}-(?P<month>\d{{2}})\b(?!-\d)"),
)
_WHOLE_YEAR = (
    re.compile(
        rf"\b(?:in|during|throughout|across|of)\s+(?:the\s+year\s+)?{_YEAR}\b(?!-\d){_NOT_AMOUNT}"
    ),
    re.compile(rf"\b{_YEAR}(?:'s|’s)\b"),
    re.compile(rf"\b(?:for|over)\s+the\s+(?:whole\s+|full\s+)?year\s+{_YEAR}\b"),
    re.compile(rf"\bthe\s+{_YEAR}\s+(?:high|low|range|peak|bottom|top|price)"),
)
_YEARS = re.compile(
    rf"\b(?:from|between)\s+{_YEAR}\s+(?:to|and|until|through|-)\s+(?P<last>(?:19|20)\d{{2}})\b{_NOT_AMOUNT}"
)
# a follow-up that is only a year: "and 2022?", "what about 2021"
_BARE_YEAR = re.compile(
    rf"^\s*(?:and|what about|how about|same for|now|ok|then)?\s*(?:in\s+|for\s+)?{_YEAR}\s*[?!.]*\s*$"
)
_SINCE_YEAR = re.compile(rf"\bsince\s+{_YEAR}\b{_NOT_AMOUNT}")


@dataclass(frozen=True)
class DateWindow:
    """A window of UTC days, both ends included."""

    start: date
    end: date


def _month(parts: dict[str, str | None]) -> int:
    if parts.get("month"):
        return int(parts["month"] or 0)
    name = (parts["mon"] or "").lower()
    return MONTHS.get(name) or MONTHS.get(name[:3], 0)  # "sept", "march" -> "mar"


def _dates(lowered: str, today: date) -> list[Mention]:
    """Every calendar date with where it stands (start, end), in order: written in full first,
    then holidays, numeric dates and days without a year (`agent.offline.calendar_phrases`)."""
    found: list[Mention] = []
    for regex in _DATES:
        for match in regex.finditer(lowered):
            try:
                day = date(int(match["year"]), _month(match.groupdict()), int(match["day"]))
            except ValueError:
                continue
            if not any(s <= match.start() < e for s, e, _ in found):
                found.append((match.start(), match.end(), day))
    others = [*holidays(lowered, today), *ago(lowered, today), *numeric(lowered)]
    for start, end, day in [*others, *yearless(lowered, today)]:
        if not any(s < end and start < e for s, e, _ in found):
            found.append((start, end, day))
    return sorted(found)


def extract_as_of(text: str, today: date | None = None) -> date | None:
    """The first calendar date of a message (`today` resolves "last christmas", "march 3rd")."""
    found = _dates(text.lower(), today or date.today())
    return found[0][2] if found else None


def _joined(lowered: str, first: tuple[int, int], second: tuple[int, int]) -> bool:
    """Whether two mentions are the two ends of one window ("X to Y", "between X and Y")."""
    gap = lowered[first[1] : second[0]]
    return bool(_JOIN.match(gap) or (_AND.match(gap) and _BETWEEN.search(lowered[: first[0]])))


def _month_window(year: int, month: int, last: tuple[int, int] | None = None) -> DateWindow | None:
    end_year, end_month = last or (year, month)
    if not (1 <= month <= 12 and 1 <= end_month <= 12):
        return None
    end = date(end_year, end_month, calendar.monthrange(end_year, end_month)[1])
    start = date(year, month, 1)
    return DateWindow(min(start, end), max(start, end)) if last else DateWindow(start, end)


def _months(lowered: str) -> DateWindow | None:
    """A month ("March 2024", "2024-03"), or two joined ("jan 2024 to mar 2024")."""
    found = sorted(
        (m.start(), m.end(), int(m["year"]), _month(m.groupdict()))
        for regex in _MONTHS_OF_YEAR
        for m in regex.finditer(lowered)
    )
    if not found:
        return None
    (s1, e1, y1, m1) = found[0]
    if len(found) >= 2 and _joined(lowered, (s1, e1), found[1][:2]):
        return _month_window(y1, m1, (found[1][2], found[1][3]))
    return _month_window(y1, m1)


def extract_window(text: str, today: date) -> DateWindow | None:
    """The window of days a message asks about, if it names one (a lone date is not one)."""
    lowered = text.lower()
    found = _dates(lowered, today)
    if len(found) >= 2 and _joined(lowered, found[0][:2], found[1][:2]):
        first, second = sorted((found[0][2], found[1][2]))
        return DateWindow(first, second)
    week = week_of(lowered, found)
    if week is not None:
        return DateWindow(*week)
    if found:
        return None  # one calendar day: `as_of`
    quarter = quarter_or_half(lowered, today)
    if quarter is not None:
        return DateWindow(*quarter)
    months = _months(lowered)
    if months is not None:
        return months
    match = _YEARS.search(lowered)
    if match:
        first_year, last_year = sorted((int(match["year"]), int(match["last"])))
        return DateWindow(date(first_year, 1, 1), date(last_year, 12, 31))
    for regex in (*_WHOLE_YEAR, _BARE_YEAR):
        match = regex.search(lowered)
        if match:
            year = int(match["year"])
            return DateWindow(date(year, 1, 1), date(year, 12, 31))
    match = _SINCE_YEAR.search(lowered)
    if match and int(match["year"]) <= today.year:
        return DateWindow(date(int(match["year"]), 1, 1), today)
    return None
