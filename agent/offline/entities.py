"""Entity extraction for the offline planner: coins, timeframe, periods, horizon, indicators, dates.

Everything here is pure string work over one message; the planner decides what the pieces mean
for the turn (a bare "14 days" is a forecast horizon for a forecast and a period for a price).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from agent.offline.calendar_phrases import without_dated_years
from agent.offline.dates import DateWindow, extract_as_of, extract_window
from agent.offline.intents import CONCEPTS, FOLLOWUP_LEAD, INDICATOR_PATTERNS, INDICATOR_TITLES
from agent.offline.lexicon import (
    AMBIGUOUS_ALIASES,
    DETERMINERS,
    FUZZY_BLOCKLIST,
    NUMBER_WORDS,
    STRICT_ALIASES,
    SYMBOL_CUES,
)
from knowledge.market.symbols import CATALOGUE, Coin, find_coin


@dataclass(frozen=True)
class Entities:
    """What one message names: coins, timeframe, past period, future horizon, indicators, date."""

    symbols: list[str] = field(default_factory=list)
    interval: str | None = None
    period_days: int | None = None  # "last week", "past 30 days", "ytd": looking back
    horizon_days: int | None = None  # "next week", "tomorrow": looking ahead
    duration_days: int | None = None  # "14 days", "in 3 days", "a month": direction unsaid
    indicators: list[str] = field(default_factory=list)
    as_of: date | None = None  # one calendar day
    window: DateWindow | None = None  # "March 2024", "in 2023", "from ... to ..."
    concept: str | None = None


def extract_entities(text: str, *, today: date | None = None) -> Entities:
    """Every entity the planner needs from one message; `today` anchors "this month" and "ytd"."""
    today = today or date.today()
    period, horizon, duration = extract_durations(text, today)
    return Entities(
        symbols=extract_symbols(text),
        interval=extract_interval(text),
        period_days=period,
        horizon_days=horizon,
        duration_days=duration,
        indicators=extract_indicators(text),
        as_of=extract_as_of(text, today),
        window=extract_window(text, today),
        concept=find_concept(text),
    )


# ---------------------------------------------------------------- coins

_TOKEN = re.compile(r"\$?[A-Za-z][A-Za-z0-9]*(?:-[Uu][Ss][Dd])?(?:['’][sS])?")
FUZZY_SIMILARITY = 0.85  # Jaro-Winkler, which weighs the first letters most
_CONNECTORS = frozenset({"and", "or", "vs", "versus", "with", "against", "to"})
_MULTIWORD = {a: c for c in CATALOGUE for a in c.aliases if " " in a}
_FUZZY_TARGETS: dict[str, Coin] = {
    key: coin
    for coin in CATALOGUE
    for key in (coin.name.lower(), *coin.aliases)
    if len(key) >= 6 and " " not in key and key not in AMBIGUOUS_ALIASES
}


@dataclass(frozen=True)
class _Token:
    """One word of the message: as typed, and normalised (lower case, no `$`, no "'s")."""

    raw: str
    word: str
    cashtag: bool


def _tokens(text: str) -> list[_Token]:
    """Split a message into word tokens, keeping cashtags and Yahoo symbols whole."""
    found = []
    for match in _TOKEN.finditer(text):
        raw = re.sub(r"['’][sS]$", "", match.group())
        found.append(
            _Token(raw=raw.lstrip("$"), word=raw.lstrip("$").lower(), cashtag=raw[0] == "$")
        )
    return found


def _lookup(word: str) -> Coin | None:
    """The coin a single word names: exact alias, plural form, or a close misspelling."""
    coin = find_coin(word)
    if coin is not None:
        return coin
    if len(word) > 4 and word.endswith("s"):
        coin = find_coin(word[:-1])
        if coin is not None and word[:-1] not in AMBIGUOUS_ALIASES:
            return coin
    if len(word) < 4 or not word.isalpha() or word in FUZZY_BLOCKLIST:
        return None
    from rapidfuzz.distance import OSA, JaroWinkler

    best = max(_FUZZY_TARGETS, key=lambda key: JaroWinkler.normalized_similarity(word, key))
    close = JaroWinkler.normalized_similarity(word, best) >= FUZZY_SIMILARITY
    # "etherium", "solona", "cardona", "bitcoim": same first letter, one edit (a swap of two
    # letters counts as one) for short names, two for longer ones
    edits = OSA.distance(word, best)
    if close and best[0] == word[0] and edits <= (1 if len(best) <= 6 else 2):
        return _FUZZY_TARGETS[best]
    return None


def _accept_ambiguous(index: int, toks: list[_Token], coins: dict[int, str], text: str) -> bool:
    """Whether an ambiguous word ("link", "dot") is meant as a coin in this message.

    Accepted when written in capitals (in a message that is not all capitals), when a
    cue word such as "price" or "buy" is within two words, when it sits next to another coin
    ("BTC and link"), or when it is the object of a short follow-up ("and link?"). Rejected
    after a determiner ("a link", "this dot"). "etc" needs capitals (or a cashtag).
    """
    tok = toks[index]
    shouting = not any(ch.islower() for ch in text)
    if tok.raw.isupper() and not shouting:
        return True  # "your LINK forecasts"
    if tok.word in STRICT_ALIASES:
        return False
    after = [t.word for t in toks[index + 1 : index + 3]]
    if index > 0 and toks[index - 1].word in DETERMINERS:
        return any(word in SYMBOL_CUES for word in after)  # "your sol predictions", not "a link"
    nearby = [t.word for t in toks[max(0, index - 2) : index]] + after
    if any(word in SYMBOL_CUES for word in nearby):
        return True
    for step in (-1, 1):
        near, far = index + step, index + 2 * step
        if near in coins:
            return True
        in_range = 0 <= near < len(toks) and 0 <= far < len(toks)
        if in_range and toks[near].word in _CONNECTORS and far in coins:
            return True
    return bool(re.match(FOLLOWUP_LEAD, text.lower()))  # "and where was atom a year ago?"


def extract_symbols(text: str, *, lenient: bool = False) -> list[str]:
    """Yahoo symbols of the coins a message names, in order of first mention, without repeats
    (`lenient`: a question that needs a coin and names no other takes an ambiguous word such as
    "ripple" or "etc" as one, unless a determiner makes it a noun)."""
    toks = _tokens(text)
    coins: dict[int, str] = {}
    pending: list[tuple[int, str]] = []
    index = 0
    while index < len(toks):
        tok = toks[index]
        if index + 1 < len(toks):
            pair = _MULTIWORD.get(f"{tok.word} {toks[index + 1].word}")
            if pair is not None:
                coins[index] = pair.symbol
                index += 2
                continue
        coin = _lookup(tok.word)
        if coin is not None:
            if tok.word in AMBIGUOUS_ALIASES and not tok.cashtag:
                pending.append((index, coin.symbol))
            else:
                coins[index] = coin.symbol
        index += 1
    for position, symbol in pending:
        if _accept_ambiguous(position, toks, coins, text):
            coins[position] = symbol
    if lenient and not coins:
        for position, symbol in pending:
            if position == 0 or toks[position - 1].word not in DETERMINERS:
                coins[position] = symbol
    return list(dict.fromkeys(coins[i] for i in sorted(coins)))


# ---------------------------------------------------------------- timeframe and periods

_HOURLY = re.compile(
    r"\b(?:hourly|intraday|h1|h4|[14]\s?hr?s?|(?:1|4|one|four)[- ]hours?|hour chart"
    r"|60\s?min(?:ute)?s?)\b"
)
_DAILY = re.compile(r"\b(?:daily|1d|d1|1[- ]day (?:chart|candles?|timeframe)|day chart)\b")


def extract_interval(text: str) -> str | None:
    """The candle interval asked for: "1h" (hourly, 1h, 4h, intraday) or "1d" (daily, 1d)."""
    lowered = text.lower()
    hourly, daily = _HOURLY.search(lowered), _DAILY.search(lowered)
    if hourly and (daily is None or hourly.start() < daily.start()):
        return "1h"
    return "1d" if daily else None


_UNIT_DAYS = {"day": 1, "week": 7, "wk": 7, "fortnight": 14, "month": 30, "mo": 30,
              "quarter": 90, "year": 365, "yr": 365}  # fmt: skip
_NUMWORDS = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_RELATIVE = re.compile(
    r"\b(?P<dir>last|past|previous|prior|this|next|coming|upcoming)\s+"
    r"(?P<unit>day|week|fortnight|month|quarter|year)\b"
)
_LONG = re.compile(
    rf"\b(?P<n>\d+|{_NUMWORDS})\s*-?\s*(?P<unit>hours?|hrs?|days?|weeks?|wks?|fortnights?"
    r"|months?|mos?|quarters?|years?|yrs?)\b"
)
_SHORT = re.compile(r"\b(?P<n>\d+)(?P<unit>[hdwy])\b")
_PAST_BEFORE = re.compile(r"\b(?:last|past|previous|prior)\s+$")
_FUTURE_BEFORE = re.compile(r"\b(?:next|coming|upcoming)\s+$")
_PAST_AFTER = re.compile(r"^\s+ago\b")
_FUTURE_AFTER = re.compile(r"^\s+(?:from now|ahead|out)\b")
_KEYWORDS: tuple[tuple[str, str, int], ...] = (
    (r"\btoday\b|\bintraday change\b", "past", 1),
    (r"\byesterday\b", "past", 1),
    (r"\btomorrow\b", "future", 1),
)
_TO_DATE = re.compile(r"\bytd\b|\byear[- ]to[- ]date\b")
_MINUS_BEFORE = re.compile(r"(?:^|\s)(?:-|−|minus\s+)$")  # "for -5 days": a negative amount


def _days(amount: str, unit: str) -> float:
    """Length in days of "3 weeks"-style amounts (hours give fractions of a day)."""
    count = int(amount) if amount.isdigit() else NUMBER_WORDS[amount]
    unit = unit.rstrip("s")
    if unit in ("hour", "hr", "h"):
        return count / 24
    return count * {"d": 1, "w": 7, "y": 365}.get(unit, _UNIT_DAYS.get(unit, 1))


def extract_durations(text: str, today: date) -> tuple[int | None, int | None, int | None]:
    """(past period, future horizon, undirected duration) in days, first mention of each."""
    lowered = without_dated_years(text.lower())
    found: list[tuple[int, str, int]] = []
    for match in _RELATIVE.finditer(lowered):
        direction, unit = match.group("dir"), match.group("unit")
        if direction == "this" and unit == "month":
            found.append((match.start(), "past", today.day))
        elif direction == "this" and unit == "year":
            found.append((match.start(), "past", today.timetuple().tm_yday))
        else:
            kind = "future" if direction in ("next", "coming", "upcoming") else "past"
            found.append((match.start(), kind, _UNIT_DAYS[unit]))
    for match in _TO_DATE.finditer(lowered):
        found.append((match.start(), "past", today.timetuple().tm_yday))
    for pattern, kind, days in _KEYWORDS:
        found.extend((m.start(), kind, days) for m in re.finditer(pattern, lowered))
    for regex in (_LONG, _SHORT):
        for match in regex.finditer(lowered):
            length = _days(match.group("n"), match.group("unit"))
            is_hours = match.group("unit").startswith("h")
            if length != int(length) or (regex is _SHORT and match.group() == "1d"):
                continue  # "4h", "1d": an interval, not a period
            before, after = lowered[: match.start()], lowered[match.end() :]
            if is_hours or _PAST_BEFORE.search(before) or _PAST_AFTER.match(after):
                kind = "past"
            elif _FUTURE_BEFORE.search(before) or _FUTURE_AFTER.match(after):
                kind = "future"
            else:
                kind = "bare"
            sign = -1 if _MINUS_BEFORE.search(before) else 1  # kept, so the planner can say so
            found.append((match.start(), kind, sign * int(length)))
    found.sort()
    first = {kind: days for _, kind, days in reversed(found)}
    return first.get("past"), first.get("future"), first.get("bare")


# ---------------------------------------------------------------- indicators, concepts, dates


def _indicator_hits(lowered: str) -> list[tuple[int, str]]:
    """(position, group) for each indicator word in a lower-cased message."""
    hits: list[tuple[int, str]] = []
    for pattern, groups in INDICATOR_PATTERNS:
        match = re.search(pattern, lowered)
        if match:
            hits.extend((match.start(), group) for group in groups)
    return sorted(hits, key=lambda hit: hit[0])


def extract_indicators(text: str) -> list[str]:
    """Indicator group names mentioned ("bollinger" -> bbands), in order of mention."""
    return list(dict.fromkeys(group for _, group in _indicator_hits(text.lower())))


def find_concept(text: str) -> str | None:
    """The first indicator or market concept a message names, as the knowledge base calls it."""
    lowered = text.lower()
    hits = [(pos, INDICATOR_TITLES[group]) for pos, group in _indicator_hits(lowered)]
    for concept in CONCEPTS:
        match = re.search(rf"\b{re.escape(concept)}\b", lowered)
        if match:
            hits.append((match.start(), concept))
    return min(hits, key=lambda hit: (hit[0], -len(hit[1])))[1] if hits else None
