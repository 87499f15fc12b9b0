"""The grounding check: every figure in an answer must come from the turn's tool results.

Policy, in short:
- Figures are numbers as written (`$87,508.83`, `87.5k`, `2.5M`, `-4.1%`, `+0.35`) and dates
  (`2025-12-31`, `March 1, 2024`). A figure is grounded when a number (or date) in the tool
  results or in the user's question displays as it when rounded (half a unit of the last
  shown digit) or truncated (`87.5k` covers 87,450..87,600; `87,508` covers 87,508.83);
  round thousands (`87,500`) may be at most 0.1% off. Percentages match the tool value as
  percent or as fraction (`12.3%` ~ 12.3 or 0.123). A figure written without a sign matches either sign
  ("down 4.1%" for -4.1); an explicit sign must agree.
- Tool numbers are gathered recursively from values, and from numeric text inside string
  values and keys (`rsi_14` supplies 14; `"2024-03-01"` supplies that date and its year).
- Not checked: clock times (`14:00`), list markers (`1.` at a line start), ordinals (`3rd`),
  interval labels (`24h`, `1d`), indicator parameters (`RSI(14)`, `SMA 50`, `200-day MA`),
  bare integers up to 10 (counts), and the textbook thresholds 20/30/50/70/80/100 in a
  sentence about an oscillator ("RSI below 30").

The disclosure guard (`agent.guards.disclosure`) runs before this check.
"""

from __future__ import annotations

import bisect
import math
import numbers
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MON = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_ISO = re.compile(
    r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?!\d)"
)
_NAMED = (
    re.compile(rf"\b{_MON}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{{4}}))?\b", re.I),
    re.compile(
        rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MON}(?:,?\s+(?P<y>\d{{4}}))?\b", re.I
    ),
)
_TIME = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[ap]\.?m\.?)?(?![\w:])", re.I)
_LIST_MARKER = re.compile(r"^[ \t>]*(?:[-*•][ \t]+)?\d+[.)](?=[ \t])", re.M)
_IND = r"(?:rsi|sma|ema|macd|atr|adx|cci|mfi|roc|obv|willr|williams\s*%r|stoch\w*|bb|bbands|bollinger(?:\s+bands)?|ma)"
_PARAMS = (
    re.compile(rf"\b{_IND}\s*[(\[]\s*\d+(?:\s*[,/]\s*\d+)*\s*[)\]]", re.I),
    re.compile(r"\b(?:rsi|sma|ema|ma)[_-]?\d{1,3}(?![.,]?\d)", re.I),
    re.compile(r"\b(?:sma|ema|ma)\s+\d{1,3}(?![.,]?\d)", re.I),
    re.compile(
        rf"\b\d{{1,3}}[- ](?:day|period|hour|week|bar)s?\s+(?:simple\s+|exponential\s+)?(?:{_IND}|moving average)",
        re.I,
    ),
)
_NUMBER = re.compile(
    r"(?<![\w.,])(?P<sign>[+\-−])?(?P<cur>[$€£])?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:(?P<suf>k|K|M|m|B|bn|T)(?![A-Za-z])|\s?(?P<word>thousand|million|billion|trillion)\b)?"
    r"(?P<pct>\s?%|\s?percent\b)?(?![A-Za-z0-9_])"
)
_LOOSE = re.compile(
    r"(?P<sign>[+\-−])?\$?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:(?P<suf>k|K|M|B|bn|T)(?![A-Za-z])|\s?(?P<word>thousand|million|billion|trillion)\b)?"
    r"(?P<pct>\s?%)?"
)
_SCALE = {"k": 1e3, "K": 1e3, "M": 1e6, "m": 1e6, "B": 1e9, "bn": 1e9, "T": 1e12,
          "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}  # fmt: skip
_OSCILLATOR = re.compile(r"\b(?:rsi|stoch\w*|mfi|williams|cci|overbought|oversold|threshold)", re.I)
_THRESHOLDS = frozenset({20.0, 30.0, 50.0, 70.0, 80.0, 100.0})
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")


class GroundingVerdict(BaseModel):
    """Outcome of the check: grounded when no checked figure lacks support in the tool results."""

    grounded: bool
    checked: int = 0
    unsupported: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class _Figure:
    """One figure found in an answer: its text, span, and what it must match."""

    raw: str
    start: int
    end: int
    value: float | None = None  # None for dates
    unit: float = 0.0
    signed: bool = False
    percent: bool = False
    day: str | None = None  # "2024-03-01" or "-03-01" when the year is not written


@dataclass
class _Evidence:
    """Numbers and dates available from tool results and the question, sorted for lookup."""

    values: list[float]
    days: set[str]


def _parse(match: re.Match[str]) -> tuple[float, float]:
    """Value and display unit (one step of the last shown digit) of a number match."""
    digits = match.group("num").replace(",", "")
    scale = _SCALE.get(match.group("suf") or match.group("word") or "", 1.0)
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    value = float(digits) * scale
    unit = 10.0**-decimals * scale
    if decimals == 0 and scale == 1.0 and value >= 1000:
        zeros = len(digits) - len(digits.rstrip("0"))
        unit = max(1.0, min(10.0**zeros, value * 0.001))
    if (match.group("sign") or "") in "-−" and match.group("sign"):
        value = -value
    return value, unit


def _date_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, ISO or -MM-DD day) of each date written in the text."""
    spans = [(m.start(), m.end(), m.group()[:10]) for m in _ISO.finditer(text)]
    for regex in _NAMED:
        for m in regex.finditer(text):
            month, day = _MONTHS.index(m.group("mon").lower()[:3]) + 1, int(m.group("d"))
            modal = m.group("mon").lower() == "may" and not m.group("y")  # "it may 5x"
            if 1 <= day <= 31 and not modal and not any(s <= m.start() < e for s, e, _ in spans):
                prefix = m.group("y") or ""
                spans.append((m.start(), m.end(), f"{prefix}-{month:02d}-{day:02d}"))
    return spans


def _figures(answer: str) -> list[_Figure]:
    """Every figure in the answer that the check applies to, in order."""
    skip = [(m.start(), m.end()) for m in _TIME.finditer(answer)]
    skip += [(m.start(), m.end()) for m in _LIST_MARKER.finditer(answer)]
    skip += [(m.start(), m.end()) for regex in _PARAMS for m in regex.finditer(answer)]
    found = [_Figure(answer[s:e], s, e, day=day) for s, e, day in _date_spans(answer)]
    skip += [(f.start, f.end) for f in found]
    for m in _NUMBER.finditer(answer):
        if any(s <= m.start() < e for s, e in skip):
            continue
        if m.group("suf") == "m" and not m.group("cur"):
            continue  # "5m" reads as minutes; only "$2.5m" is millions
        value, unit = _parse(m)
        bare = not (m.group("cur") or m.group("pct") or m.group("suf") or m.group("word"))
        if bare and "." not in m.group("num") and abs(value) <= 10:
            continue
        sentence = _sentence_at(answer, m.start())
        if bare and abs(value) in _THRESHOLDS and _OSCILLATOR.search(sentence):
            continue
        found.append(
            _Figure(m.group().strip(), m.start(), m.end(), value, unit,
                    signed=bool(m.group("sign")), percent=bool(m.group("pct")))
        )  # fmt: skip
    return sorted(found, key=lambda figure: figure.start)


def _sentences(line: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of one line; sentence-final punctuation separates them."""
    bounds, start = [], 0
    for end in _SENTENCE_END.finditer(line):
        bounds.append((start, end.end()))
        start = end.end()
    if line[start:].strip():
        bounds.append((start, len(line)))
    return bounds


def _sentence_at(text: str, position: int) -> str:
    """The sentence containing a position (sentences never cross a line break)."""
    line_start = text.rfind("\n", 0, position) + 1
    line_end = text.find("\n", position)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    for start, end in _sentences(line):
        if start <= position - line_start < end:
            return line[start:end]
    return line


def _scan_text(text: str, evidence: _Evidence) -> None:
    """Add the numbers and dates written inside a string (or a dictionary key)."""
    for _, _, day in _date_spans(text):
        evidence.days.add(day)
        if day[:4].isdigit():
            evidence.values.append(float(day[:4]))
    for m in _LOOSE.finditer(text):
        value, _ = _parse(m)
        evidence.values.append(value)


def _collect(value: Any, evidence: _Evidence) -> None:
    """Gather every number and date in a JSON-like tool result, recursively."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, datetime | date):
        _scan_text(value.isoformat(), evidence)
    elif isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number):
            evidence.values.append(number)
    elif isinstance(value, str):
        _scan_text(value, evidence)
    elif isinstance(value, dict):
        for key, item in value.items():
            _scan_text(str(key), evidence)
            _collect(item, evidence)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _collect(item, evidence)
    elif hasattr(value, "model_dump"):
        _collect(value.model_dump(mode="json"), evidence)
    else:
        _scan_text(str(value), evidence)


def _near(values: list[float], shown: float, unit: float) -> bool:
    """Whether a sorted list holds a value that displays as `shown`, rounded or truncated.

    Rounding covers half a unit either side; truncation a full unit away from zero.
    """
    slack = abs(shown) * 1e-9 + 1e-12
    low, high = (shown - unit / 2, shown + unit) if shown >= 0 else (shown - unit, shown + unit / 2)
    index = bisect.bisect_left(values, low - slack)
    return index < len(values) and values[index] <= high + slack


def _supported(figure: _Figure, evidence: _Evidence) -> bool:
    """Whether one figure matches the evidence within its displayed precision."""
    if figure.day is not None:
        return any(day.endswith(figure.day) for day in evidence.days)
    if figure.value is None:
        return False
    candidates = [(figure.value, figure.unit)]
    if figure.percent:
        candidates.append((figure.value / 100, figure.unit / 100))
    for value, unit in candidates:
        targets = [value] if figure.signed else [value, -value]
        if any(_near(evidence.values, target, unit) for target in targets):
            return True
    return False


def check_grounding(
    answer: str, tool_results: Iterable[Any], question: str = ""
) -> GroundingVerdict:
    """Check that each figure in the answer comes from the tool results or the question."""
    evidence = _Evidence(values=[], days=set())
    _collect(list(tool_results), evidence)
    _scan_text(question, evidence)
    evidence.values.sort()
    figures = _figures(answer)
    unsupported = [f.raw for f in figures if not _supported(f, evidence)]
    return GroundingVerdict(grounded=not unsupported, checked=len(figures), unsupported=unsupported)


def remove_sentences(answer: str, spans: Sequence[tuple[int, int]]) -> tuple[str, int]:
    """The answer without each sentence that overlaps a span, and how many went.

    Sentences never cross a line; list markers and blank lines keep the layout.
    """
    kept: list[str] = []
    offset = removed = 0
    for line in answer.split("\n"):
        marker = re.match(r"[ \t>]*(?:(?:[-*•]|\d+[.)])[ \t]+)?", line)
        head = marker.end() if marker else 0
        base, offset = offset + head, offset + len(line) + 1
        sentences = _sentences(line[head:])
        keep = []
        for s, e in sentences:
            if any(a < base + e and b > base + s for a, b in spans):
                removed += 1
            else:
                keep.append(line[head + s : head + e].strip())
        if keep:
            kept.append(line[:head] + " ".join(keep))
        elif not sentences:
            kept.append(line)  # blank or marker-only lines keep the layout
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip(), removed


def strip_unsupported(answer: str, verdict: GroundingVerdict) -> str:
    """Drop each sentence holding an unsupported figure and say how many figures went."""
    bad = set(verdict.unsupported)
    flagged = [f.start for f in _figures(answer) if f.raw in bad]
    if verdict.grounded or not flagged:
        return answer
    body, _ = remove_sentences(answer, [(p, p + 1) for p in flagged])
    note = f"({len(flagged)} unsupported figure{'s' if len(flagged) != 1 else ''} removed)"
    return f"{body}\n\n{note}" if body else note
