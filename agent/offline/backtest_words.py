"""The words of a backtest question: whether a message asks how a signal did in the past, and
which rule and side it names ("golden cross" is the buy side of the moving-average cross,
"your signals" the summary stance). Patterns apply to the lower-cased message."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

Side = Literal["buy", "sell"]

# what a signal is called: a rule, a setup, a named indicator or the assistant's stance
SIGNAL = (
    r"(?:signals?|rules?|strateg(?:y|ies)|cross(?:es|over|overs|ing)?|stance|setups?|bounces?|"
    r"oversold|overbought|divergences?|macd|rsi|bollinger\w*|stoch\w*|indicators?|patterns?|"
    r"calls? of the stance|technicals?)"
)
_EFFECT = (
    r"(?:work\w*|pa(?:y|ys|id) off|any good|profitable|reliable|useful|worth (?:it|anything)|"
    r"(?:made|make|lost|lose) money|beat\w*|perform\w*|have done|done well|do well|an edge)"
)
_RECORD = r"(?:track record|hit rate|win rate|success rate|historically|in the past|over the years)"
BACKTEST_PATTERNS: tuple[str, ...] = (
    r"\bback[- ]?test\w*\b",
    rf"\b(?:does|do|did|has|have|had|would|will|is|are|was|were|can)\b.*\b{SIGNAL}\b.*\b{_EFFECT}",
    rf"\bhow (?:good|reliable|accurate|well|profitable|useful|trustworthy)\b.*\b{SIGNAL}\b",
    rf"\b{SIGNAL}\b.*\b{_RECORD}\b",
    rf"\b{_RECORD}\b.*\b{SIGNAL}\b",
    rf"\bhow (?:did|would|has|have|do|does)\b.*\b{SIGNAL}\b.*\b(?:do|done|go|gone|fare|fared)\b",
    # "buying BTC on every death cross", "if I bought every time RSI < 30"
    r"\b(?:buy|bought|buying|sell|sold|selling|enter\w*|trad\w*|go(?:ne|ing)? long|short\w*)\b"
    r"[^.?!]*\b(?:every|each|whenever)\b",
)
# a request for what a signal is, not how it did: the explanation, however it is worded
_EXPLAIN_ONLY = (
    r"^\s*(?:explain|define|what (?:is|are|does)|what's|how (?:does|do) )"
    r"(?!.*\b(?:back|track record|hit rate|win rate|every|whenever|worked|historically))"
)

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_SINCE = (
    r"\b(?:since|from|starting(?: in)?|after)\s+(?:(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct"
    r"|nov|dec)\w*\s+)?(?P<year>(?:19|20)\d{2})\b"
)
# words -> (rule, the side the words name or None); ordered, the first match wins
RULE_WORDS: tuple[tuple[str, str, Side | None], ...] = (
    (r"\bgolden cross\w*", "ma_cross", "buy"),
    (r"\bdeath cross\w*", "ma_cross", "sell"),
    (r"\b(?:moving averages?|mas?|sma|ema|50/200|50 ?day)\b.*\bcross\w*|\bma[_ ]cross\w*",
     "ma_cross", None),
    (r"\bmacd\b", "macd", None),
    (r"\bdivergences?\b", "rsi_divergence", None),
    (r"\bstoch\w*", "stochastic", None),
    (r"\bwilliams\b|\bwillr\b|%r\b", "williams_r", None),
    (r"\bcci\b|\bcommodity channel\b", "cci", None),
    (r"\bmfi\b|\bmoney flow\b", "mfi", None),
    (r"\bbollinger\w*|\bbbands?\b|\bbb\b|\bbands?\b", "bollinger", None),
    (r"\badx\b|\bdmi\b|\baverage directional\b", "adx", None),
    (r"\bparabolic\b|\bp?sar\b", "sar", None),
    (r"\bcandle\w*|\bdoji\b|\bhammer\b|\bengulfing\b|\bpatterns?\b", "candlestick", None),
    (r"\brsi\b|\brelative strength\b|\bover(?:sold|bought)\b", "rsi", None),
    (r"\btrend\w*\b|\bmoving averages?\b|\b200[- ]?day\b", "trend", None),
)  # fmt: skip
_BUY_SIDE = (
    r"\boversold\b|\bbelow (?:20|30)\b|< ?30\b|\blower band\b|\bbounce\w*|\bbuy signals?\b"
    r"|\bbullish\b|\bcross(?:es|ed)? above\b|\bturn(?:s|ed)? (?:up|bullish)\b"
)
_SELL_SIDE = (
    r"\boverbought\b|\babove (?:70|80)\b|> ?70\b|\bupper band\b|\bsell signals?\b|\bbearish\b"
    r"|\bcross(?:es|ed)? below\b|\bturn(?:s|ed)? (?:down|bearish)\b"
)


def asks_backtest(lowered: str) -> bool:
    """Whether the message asks how a signal (or the assistant's stance) did in the past."""
    if re.search(_EXPLAIN_ONLY, lowered):
        return False
    return any(re.search(pattern, lowered) for pattern in BACKTEST_PATTERNS)


def backtest_rule(lowered: str) -> tuple[str, Side | None]:
    """The rule a backtest question names and the side its words point at; the summary stance
    when it names none ("your signals", "the stance", "your overall view")."""
    rule, side = "stance", None
    for pattern, name, named_side in RULE_WORDS:
        if re.search(pattern, lowered):
            rule, side = name, named_side
            break
    if side is None:
        buy, sell = re.search(_BUY_SIDE, lowered), re.search(_SELL_SIDE, lowered)
        if bool(buy) != bool(sell):
            side = "buy" if buy else "sell"
    return rule, side


def is_backtest(lowered: str) -> bool:
    """`asks_backtest`, under the name the intent reading uses."""
    return asks_backtest(lowered)


def backtest_start(lowered: str) -> date | None:
    """Where the asked period starts: "since 2019", "from 2020", "since march 2021"."""
    found = re.search(_SINCE, lowered)
    if found is None:
        return None
    month = _MONTHS.get((found.group("mon") or "")[:3], 1)
    return date(int(found.group("year")), month, 1)
