"""Dates people write without an ISO form: holidays ("christmas day 2021", "last new year's
eve"), a day without its year ("April 1st and April 15th 2024", "on march 3rd"), numeric dates
("3/3/23", "12.01.2023", read by `dateparser`), and quarters or halves ("Q2 2022", "the first
half of 2023").

Each finder returns the mentions with where they stand in the lower-cased message, so
`agent.offline.dates` can join two of them into a window ("between X and Y").
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from agent.offline.lexicon import MONTH_PATTERN, MONTHS

#: a mention of one day: (start, end, the day)
Mention = tuple[int, int, date]

_YEAR = r"(?P<year>(?:19|20)\d{2})"
_HOLIDAYS: tuple[tuple[str, int, int], ...] = (
    (r"christmas eve|xmas eve", 12, 24),
    (r"christmas(?: day)?|xmas(?: day)?", 12, 25),
    (r"boxing day", 12, 26),
    (r"new year'?s eve|nye", 12, 31),
    (r"new year'?s(?: day)?", 1, 1),
    (r"halloween", 10, 31),
    (r"valentine'?s(?: day)?", 2, 14),
    (r"(?:us |american )?independence day|(?:the )?(?:4th|fourth) of july", 7, 4),
)
_MONTH = MONTH_PATTERN
_NO_YEAR_AFTER = (
    r"(?!,?\s+(?:of\s+)?(?:19|20)\d{2})(?!\s*-\s*\d)(?!\s*(?:%|k\b|usd|dollars?|days?|weeks?))"
)
_YEARLESS = (
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b{_NO_YEAR_AFTER}"),
    re.compile(
        rf"\b(?:the\s+)?(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}{_NO_YEAR_AFTER}"
    ),
)
_NUMERIC = re.compile(r"(?<![\d.\-/])(\d{1,2})([/.])(\d{1,2})\2(\d{4}|\d{2})(?![\d.\-/])")
_QUARTER_WORDS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3}
_QUARTER_WORDS |= {"fourth": 4, "4th": 4, "last": 4}
_REL_YEAR = r"(?P<rel>this|last|past)\s+year"
_QUARTERS = (
    re.compile(rf"\bq(?P<n>[1-4])\s*(?:of\s+|')?(?:{_YEAR}\b|{_REL_YEAR})"),
    re.compile(rf"\b{_YEAR}\s*q(?P<n>[1-4])\b"),
    re.compile(
        rf"\b(?P<word>first|1st|second|2nd|third|3rd|fourth|4th|last)\s+quarter\s+(?:of\s+)?"
        rf"(?:{_YEAR}|{_REL_YEAR})"
    ),
)
_HALVES = (
    re.compile(rf"\bh(?P<n>[12])\s*(?:of\s+)?{_YEAR}\b"),
    re.compile(rf"\b(?P<word>first|second|1st|2nd)\s+half\s+(?:of\s+)?(?:{_YEAR}|{_REL_YEAR})"),
)


def _month_number(name: str) -> int:
    return MONTHS.get(name) or MONTHS.get(name[:3], 0)


def _latest(month: int, day: int, today: date, *, before: bool = False) -> date | None:
    """The most recent `month`/`day` on or before `today` (strictly before, for "last")."""
    for year in (today.year, today.year - 1, today.year - 2):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate < today or (candidate == today and not before):
            return candidate
    return None


def _next_year(lowered: str, position: int) -> int | None:
    """The first year written after `position` ("April 1st and April 15th 2024" -> 2024)."""
    match = re.compile(r"\b((?:19|20)\d{2})\b").search(lowered, position)
    return int(match.group(1)) if match else None


def holidays(lowered: str, today: date) -> list[Mention]:
    """Holidays with a year ("christmas 2021"), or the latest one ("last halloween")."""
    found: list[Mention] = []
    for words, month, day in _HOLIDAYS:
        pattern = (
            rf"\b(?P<last>last\s+|this\s+past\s+)?(?:{words})\b"
            rf"(?:,?\s+(?:of\s+)?{_YEAR}\b|\s+(?P<rel>last|this)\s+year\b)?"
        )
        for match in re.finditer(pattern, lowered):
            if any(s <= match.start() < e for s, e, _ in found):
                continue
            year = match["year"] or _next_year(lowered, match.end())
            if match["rel"]:
                year = str(today.year - (match["rel"] == "last"))
            day_of = (
                date(int(year), month, day)
                if year
                else _latest(month, day, today, before=bool(match["last"]))
            )
            if day_of is not None:
                found.append((match.start(), match.end(), day_of))
    return found


def without_dated_years(lowered: str) -> str:
    """The message without the words that date a day ("christmas last year", "a year ago
    today"), so they are not also read as a look-back of 365 days."""
    words = "|".join(words for words, _, _ in _HOLIDAYS)
    lowered = re.sub(rf"\b((?:{words}))\s+(?:last|this)\s+year\b", r"\1", lowered)
    return _AGO.sub(" ", lowered)  # "a year ago today" is a day, not a look-back


def yearless(lowered: str, today: date) -> list[Mention]:
    """Days written without a year: the year written later in the message, else the latest."""
    found: list[Mention] = []
    for regex in _YEARLESS:
        for match in regex.finditer(lowered):
            month, day = _month_number(match["mon"]), int(match["day"])
            year = _next_year(lowered, match.end())
            try:
                day_of = date(year, month, day) if year else _latest(month, day, today)
            except ValueError:
                continue
            if day_of is not None:
                found.append((match.start(), match.end(), day_of))
    return found


_AGO = re.compile(
    r"\b(?P<n>a|an|one|two|three|\d{1,2})\s+(?P<unit>year|month|week)s?\s+ago\s+today\b"
    r"|\bthis day (?P<last>last) year\b"
)
_COUNT = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3}


def ago(lowered: str, today: date) -> list[Mention]:
    """ "a year ago today", "two weeks ago today", "this day last year": one past day."""
    found: list[Mention] = []
    for match in _AGO.finditer(lowered):
        n = 1 if match["last"] else _COUNT.get(match["n"], 0) or int(match["n"])
        unit = match["unit"] or "year"
        if unit == "week":
            day = date.fromordinal(today.toordinal() - 7 * n)
        else:
            months = n * (12 if unit == "year" else 1)
            year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
            last_day = calendar.monthrange(year, month + 1)[1]
            day = date(year, month + 1, min(today.day, last_day))
        found.append((match.start(), match.end(), day))
    return found


def week_of(lowered: str, mentions: list[Mention]) -> tuple[date, date] | None:
    """ "the week starting March 4th 2024", "week of 2024-03-04": that day and six after."""
    for start, _, day in mentions:
        if re.search(r"\bweek\s+(?:starting|beginning|of|from|commencing)\s+(?:\w+day\s+)?$",
                     lowered[:start]):  # fmt: skip
            return day, date.fromordinal(day.toordinal() + 6)
    return None


def numeric(lowered: str) -> list[Mention]:
    """ "3/3/23", "12.01.2023": month first unless the first number cannot be a month."""
    found: list[Mention] = []
    for match in _NUMERIC.finditer(lowered):
        import dateparser  # a few ms per date after the first; only where one is written

        order = "MDY" if match.group(2) == "/" else "DMY"  # "12.01.2023" is 12 January
        parsed = dateparser.parse(
            match.group(), languages=["en"], settings={"DATE_ORDER": order, "STRICT_PARSING": True}
        )
        if parsed is not None:
            found.append((match.start(), match.end(), parsed.date()))
    return found


def quarter_or_half(lowered: str, today: date) -> tuple[date, date] | None:
    """The days of a quarter ("Q2 2022") or a half year ("H1 2023", "second half of 2021")."""
    for regexes, months in ((_QUARTERS, 3), (_HALVES, 6)):
        for regex in regexes:
            match = regex.search(lowered)
            if match is None:
                continue
            if match.groupdict().get("n"):
                n = int(match["n"])
            elif months == 3:
                n = _QUARTER_WORDS[match["word"]]
            else:
                n = 1 if match["word"] in ("first", "1st") else 2
            rel = match.groupdict().get("rel")
            year = today.year - (rel in ("last", "past")) if rel else int(match["year"])
            first = (n - 1) * months + 1
            last = first + months - 1
            end = date(year + 1, 1, 1) if last == 12 else date(year, last + 1, 1)
            return date(year, first, 1), date.fromordinal(end.toordinal() - 1)
    return None
