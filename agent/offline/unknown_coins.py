"""Coins a message names that the catalogue does not cover ("forecast PEPE", "price of $WIF"),
so the answer can say so and list the coins it does cover, instead of asking which coin."""

from __future__ import annotations

import re

from agent.offline.entities import extract_symbols
from agent.offline.indicator_words import NOT_TICKERS
from knowledge.market.symbols import find_coin

_CASHTAG = re.compile(r"\$([A-Za-z][A-Za-z0-9]{1,9})\b")
_UPPER = re.compile(r"\b([A-Z][A-Z0-9]{1,5})\b")
_NAMED = re.compile(r"\b([a-z][a-z0-9]{1,14})\s+(?:coin|token)s?\b", re.IGNORECASE)
# words that stand before "coin" or "token" without naming one
_NOT_NAMES = frozenset(
    [
        "a",
        "an",
        "the",
        "this",
        "that",
        "which",
        "what",
        "any",
        "each",
        "every",
        "my",
        "your",
        "our",
        "their",
        "one",
        "some",
        "another",
        "new",
        "old",
        "meme",
        "stable",
        "alt",
        "privacy",
        "utility",
        "governance",
        "gaming",
        "layer",
        "good",
        "best",
        "top",
        "bad",
        "worst",
        "other",
        "same",
        "native",
        "wrapped",
        "crypto",
        "digital",
    ]
)


def extract_unknown_coins(text: str) -> list[str]:
    """Ticker-like names of the message that are not catalogue coins, upper-cased, in order."""
    found: list[str] = [m.group(1) for m in _CASHTAG.finditer(text)]
    words = text.split()
    shouting = sum(w.isupper() for w in words) > len(words) / 2  # "WHAT IS BTC AT": no tickers
    if not shouting:
        found += [m.group(1) for m in _UPPER.finditer(text) if m.group(1) not in NOT_TICKERS]
    found += [m.group(1) for m in _NAMED.finditer(text) if m.group(1).lower() not in _NOT_NAMES]
    # a catalogue name is known even where it is ambiguous alone ("SOL", "LINK", "DOT")
    unknown = [n.upper() for n in found if find_coin(n) is None and not extract_symbols(n)]
    return list(dict.fromkeys(u for u in unknown if not u.isdigit() and u not in NOT_TICKERS))
