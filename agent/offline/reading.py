"""A turn's intent by the rules: the words of the message, the thread, or a default reading,
and which of the three decided it (`agent.offline.arbiter` weighs that against the classifier).
"""

from __future__ import annotations

import re
from datetime import date

from agent.offline.arbiter import Source
from agent.offline.backtest_words import is_backtest
from agent.offline.context import ConversationContext
from agent.offline.cues import not_yet
from agent.offline.entities import Entities, extract_symbols
from agent.offline.intents import (
    DEFINITION_PATTERN,
    EXPLAIN_PATTERNS,
    INTENT_PATTERNS,
    NOT_A_DEFINITION,
    SYMBOL_INTENTS,
    WHY_PATTERN,
    Intent,
)
from agent.offline.windows import relative_window, shift_days
from knowledge.market.symbols import find_coin


def matches(patterns: tuple[str, ...], text: str) -> bool:
    """Whether any of the patterns occurs in the (lower-cased) text."""
    return any(re.search(pattern, text) for pattern in patterns)


def keyword_intent(lowered: str) -> Intent | None:
    """The first intent whose trigger words occur in the message, by priority."""
    for intent, patterns in INTENT_PATTERNS:
        if matches(patterns, lowered):
            return intent
    return None


def definition_subject(lowered: str, ents: Entities, context: ConversationContext) -> str | None:
    """The X of a "what is X?" definition question, or None when it is something else.

    "what is RSI?", "what is a dot plot?", "what are bollinger bands" are definitions;
    "what's BTC at?" names a coin, "what's a good time to buy?" is a request, and
    "what's the RSI?" during a thread about a coin asks for the reading, not the meaning.
    """
    match = re.match(DEFINITION_PATTERN, lowered)
    if match is None:
        return None
    rest = match.group("rest").strip()
    if ents.symbols:  # "what is bitcoin?" asks what the coin is; "what's BTC at?" does not
        coin = find_coin(rest)
        return coin.name if coin and match.group("verb").startswith("what ") else None
    if rest in NOT_A_DEFINITION:
        return None
    if ents.concept is not None:
        is_reading = (match.group("article") or "").strip() == "the" and context.last_symbols
        return None if is_reading else ents.concept
    return None if keyword_intent(rest) is not None else rest


def classify(
    lowered: str, ents: Entities, context: ConversationContext, today: date
) -> tuple[Intent, bool, Source]:
    """The turn's intent, whether it was borrowed from the previous turn, and what decided it."""
    if is_backtest(lowered) and not re.search(r"\b(forecasts?|predictions?)\b", lowered):
        return "backtest", False, "rule"  # how a signal did in the past (not the forecasts)
    if not_yet(lowered):
        return "not_yet", False, "rule"
    moved = shift_days(lowered) or relative_window(lowered, context.last_window)
    if moved and context.last_window is not None and ents.window is None:
        return "price", True, "context"  # "and the day before?", "and q2?"
    if re.match(WHY_PATTERN, lowered) and not ents.symbols:
        return "explain", True, "context"
    if matches(EXPLAIN_PATTERNS, lowered):
        return "explain", False, "rule"
    if definition_subject(lowered, ents, context):  # "what is X?" of a known X, or of any X
        return "explain", False, "rule" if ents.concept or ents.symbols else "default"
    keyword = keyword_intent(lowered)
    if ents.indicators and keyword in (None, "price", "help", "smalltalk"):
        return "technical", False, "rule"  # "RSI of BTC", "price and MACD for ETH"
    if keyword == "price" and ents.horizon_days and not (ents.period_days or ents.window):
        return "forecast", False, "rule"  # "AVAX price tomorrow": a price ahead
    if keyword is not None and keyword != "smalltalk":
        # "proof of work vs proof of stake": a comparison's words, but no coin to compare
        weak = keyword in SYMBOL_INTENTS and not ents.symbols and not context.last_symbols
        weak = weak and not extract_symbols(lowered, lenient=True)  # "... for ripple"
        if keyword == "compare" and len(ents.symbols) == 1 and (ents.as_of or ents.window):
            return "price", False, "rule"  # "ETH price now vs on Jan 1 2025"
        return keyword, False, "default" if weak else "rule"
    has_params = any(
        value is not None
        for value in (
            ents.interval,
            ents.period_days,
            ents.horizon_days,
            ents.duration_days,
            ents.window,
            ents.as_of,
        )
    )
    if context.last_intent in SYMBOL_INTENTS and (ents.symbols or has_params):
        if ents.window or (ents.as_of and ents.as_of <= today):
            return "price", True, "context"  # "what did it do in q1?": that window's prices
        return context.last_intent, True, "context"
    if keyword == "smalltalk":
        return "smalltalk", False, "rule"
    if ents.symbols and (ents.window or (ents.as_of and ents.as_of <= today)):
        return "price", False, "rule"  # "ATOM between April 1st and April 15th 2024"
    if ents.symbols and ents.period_days and ents.horizon_days is None:
        return "price", False, "rule"  # "BTC this month": a time behind, nothing else
    if ents.horizon_days is not None:
        return "forecast", False, "default"  # "BTC next week": a time ahead, nothing else
    return ("price", False, "default") if ents.symbols else ("unknown", False, "default")
