"""Words the entity readers need: cues that make an ambiguous word a coin, aliases that are
also English words, misspellings that are not coins, number words and month names."""

from __future__ import annotations

import calendar

# Words near an ambiguous coin word ("link", "dot") that show it is meant as a coin.
SYMBOL_CUES: frozenset[str] = frozenset(
    {
        "price", "prices", "coin", "coins", "token", "tokens", "crypto", "usd", "forecast",
        "predict", "prediction", "sentiment", "buy", "sell", "hold", "holding", "rsi", "macd",
        "technical", "ta", "vs", "versus", "compare", "oversold", "overbought", "staking",
        "analysis", "outlook", "bullish", "bearish", "pump", "dump", "trading", "rally",
        "news", "mood", "at", "worth", "forecasts", "predictions", "chart", "high", "low",
        "moved", "levels", "track", "model", "signal", "signals", "support", "resistance",
        "trend", "range", "close", "closed", "technicals",
    }
)  # fmt: skip

# Coin aliases that are also ordinary English words.
AMBIGUOUS_ALIASES: frozenset[str] = frozenset(
    {"link", "dot", "uni", "atom", "sol", "one", "ripple", "stellar", "avalanche", "cosmos",
     "lumens", "etc"}
)  # fmt: skip
# Ambiguous aliases accepted only in capitals or as cashtags ("BTC, ETH, etc." is not ETC).
STRICT_ALIASES: frozenset[str] = frozenset({"etc"})
# Words right before an ambiguous alias that make it a common noun ("a link", "this dot").
DETERMINERS: frozenset[str] = frozenset({"a", "an", "this", "that", "my", "your", "his", "her"})
# English words that look like a misspelt coin name but are not.
FUZZY_BLOCKLIST: frozenset[str] = frozenset(
    {
        "solar",
        "salon",
        "sonata",
        "cardinal",
        "either",
        "other",
        "litter",
        "bitten",
        "polka",
        "chainlit",
        "ethereal",
        "solstice",
    }
)

NUMBER_WORDS: dict[str, int] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14,
    "thirty": 30, "couple of": 2, "couple": 2, "few": 3,
}  # fmt: skip

MONTHS: dict[str, int] = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip

#: a month's name or abbreviation as a regular expression group `mon` ("mar", "march", "sept.")
MONTH_PATTERN = (
    r"(?P<mon>"
    + "|".join(sorted({*MONTHS, *(n.lower() for n in calendar.month_name if n)}, key=len)[::-1])
    + r")\.?(?![a-z])"
)
