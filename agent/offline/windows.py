"""The past days a price question is about: a window it names, a lone date, or, in a
follow-up, the last question's window again ("and BTC?") or moved ("and the day before?")."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from agent.offline.cues import SHIFTS
from agent.offline.dates import DateWindow
from agent.offline.entities import Entities


def shift_days(lowered: str) -> int:
    """Days a follow-up moves the last window by ("the day before": -1), 0 when none."""
    return next((days for pattern, days in SHIFTS if re.search(pattern, lowered)), 0)


_PART_OF_YEAR = re.compile(
    r"\b(?:q(?P<q>[1-4])|(?P<qw>first|second|third|fourth|last) quarter|(?P<hw>first|second) half"
    r"|(?P<whole>whole|full|entire) (?P<unit>month|year))\b"
)
_QUARTER = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": 4}


def relative_window(lowered: str, last: DateWindow | None) -> DateWindow | None:
    """A part of the last window's year named without the year ("and q2?", "second half?",
    "what about the whole month"), or None."""
    match = _PART_OF_YEAR.search(lowered)
    if last is None or match is None:
        return None
    year = last.start.year
    if match["whole"]:
        if match["unit"] == "year":
            return DateWindow(date(year, 1, 1), date(year, 12, 31))
        month = last.start.month
        days = calendar.monthrange(year, month)[1]
        return DateWindow(date(year, month, 1), date(year, month, days))
    if match["hw"]:
        first, months = (1 if match["hw"] == "first" else 7), 6
    else:
        first, months = (int(match["q"] or 0) or _QUARTER[match["qw"]]) * 3 - 2, 3
    last_month = first + months - 1
    return DateWindow(
        date(year, first, 1), date(year, last_month, calendar.monthrange(year, last_month)[1])
    )


def _day(ents: Entities) -> DateWindow | None:
    """A lone date is the window of that day, unless a look-back is asked as of it ("the 7-day
    change as of 2024-03-01")."""
    if ents.as_of is None or ents.period_days is not None or ents.duration_days is not None:
        return None
    return DateWindow(ents.as_of, ents.as_of)


def asked_window(
    ents: Entities, last: DateWindow | None, lowered: str, follow_up: bool
) -> DateWindow | None:
    """The window of a price question given the thread's last one (`follow_up`: the turn
    carries on the last one's intent)."""
    if ents.window is not None:
        return ents.window
    day = _day(ents)
    if day is not None or last is None:
        return day
    part = relative_window(lowered, last)
    if part is not None:
        return part
    shift = timedelta(days=shift_days(lowered))
    if shift:
        return DateWindow(last.start + shift, last.end + shift)
    return last if follow_up else None
