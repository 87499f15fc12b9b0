"""The past days a price question is about: a window it names, a lone date, or, in a
follow-up, the last question's window again ("and BTC?") or moved ("and the day before?")."""

from __future__ import annotations

import re
from datetime import timedelta

from agent.offline.cues import SHIFTS
from agent.offline.dates import DateWindow
from agent.offline.entities import Entities


def shift_days(lowered: str) -> int:
    """Days a follow-up moves the last window by ("the day before": -1), 0 when none."""
    return next((days for pattern, days in SHIFTS if re.search(pattern, lowered)), 0)


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
    shift = timedelta(days=shift_days(lowered))
    if shift:
        return DateWindow(last.start + shift, last.end + shift)
    return last if follow_up else None
