"""Words that change what a turn runs besides its intent: engines asked alongside the main one,
follow-ups that move a window of days, and questions no tool answers yet."""

from __future__ import annotations

import re

from agent.offline.entities import Entities
from agent.offline.intents import Intent

# Questions with no tool yet: each says plainly what the assistant cannot answer.
NOT_YET: tuple[tuple[str, str], ...] = (
    (
        r"\b(last|recently) (trained|retrained|updated)\b|\bwhen (was|were) .*\b(trained|retrained)\b"
        r"|\bmodel age\b",
        "when a model was trained is not something I look up in chat; `crypto-assistant models "
        "list` and GET /model-metrics/{symbol} show every version with its training time",
    ),
    (
        r"\bhow (far|much) (could|can|might|may|will|would)\b.*\b(move|swing|drop|fall|rise|go)\b"
        r"|\bvolatil\w*\b|\bexpected (daily )?(move|range)\b|\bvalue at risk\b|\bvar\b"
        r"|\bstandard deviation\b",
        "a volatility or risk forecast (how far a coin could move) is not one of my tools yet",
    ),
    (
        r"\bcorrelat\w*\b|\bmove (together|in tandem)\b",
        "how closely coins move together (correlation) is not one of my tools yet",
    ),
    (
        r"\bon[- ]?chain\b|\bactive addresses\b|\bwhales?\b.*\b(wallets?|moves?|movements?)\b"
        r"|\b(exchange )?(in|out)flows\b|\bhash ?rate\b|\bfunding rates?\b",
        "on-chain and exchange data (addresses, flows, hash rate, funding rates) is not "
        "one of my sources yet",
    ),
    (
        r"\b(split|allocate|allocation|divide|spread)\b.*\b(between|across|among|portfolio)\b",
        "portfolio allocation is not something I advise on; I can show each coin's evidence",
    ),
)
# what the classifier, not a rule, found to be a question no tool answers yet
NOT_YET_GENERIC = "that question needs an analysis that is not one of my tools yet"
# "and the day before?": the last window of a price question, moved by this many days
SHIFTS: tuple[tuple[str, int], ...] = (
    (r"\b(the )?day (before|earlier)\b|\bprevious day\b|\bday prior\b", -1),
    (r"\b(the )?day (after|later)\b|\bnext day\b|\bfollowing day\b", 1),
    (r"\b(the |a )?week (before|earlier)\b|\bprevious week\b", -7),
    (r"\b(the |a )?week (after|later)\b|\bfollowing week\b", 7),
)
# Words that ask for an engine besides the turn's main intent ("RSI and the forecast", "price
# and news"): narrower than the intent patterns, so that "bullish news" asks no chart.
SECONDARY_CUES: tuple[tuple[Intent, str], ...] = (
    (
        "price",
        r"\b(prices?(?! (target|prediction|forecast|projection|outlook|in \w+ \w+))|quote|how much|trading at)\b"
        r"|\b(at|going for) (now|right now)\b|\bclosed? (on|at)\b",
    ),
    (
        "technical",
        r"\b(technicals?|ta|indicators?|charts?|signals?|over(sold|bought)|support|resistance)\b",
    ),
    ("forecast", r"\b(forecast\w*|predict\w*|projection|price target|where will)\b"),
    (
        "sentiment",
        r"\b(sentiment|mood|news|headlines?|twitter|reddit|social media|buzz|hype|press|media)\b",
    ),
)
# an accuracy question names forecasts without asking for one
# in a track-record question, the words that also ask for the price or a new forecast
ACCURACY_ALSO_PRICE = r"\b(current|latest|today'?s) price\b|\bprice (and|\+|,)"
ACCURACY_ALSO_FORECAST = r"\bforecast (and|\+|,|for|\d)|\b(and|\+) (a |the |its )?(new )?forecast\b"
# the latest figures asked beside a past day ("current price and what it was on 2024-01-01")
LATEST_CUE = (
    r"\b(current|latest|today'?s)\s+(price|quote|value|level)\b"
    r"|\b(price|trading|at|worth|is it)\s+(now|today|right now|currently)\b"
)
# in a forecast question, the words that also ask for today's price
FORECAST_ALSO_PRICE = (
    r"\b(current|latest|today'?s) price\b|\bprice (now|today|and|\+|,)|\b(trading|at) now\b"
    r"|\bhow much is\b"
)
ENGINE_INTENTS = frozenset({"price", "technical", "forecast", "sentiment"})


def _declined(lowered: str) -> set[Intent]:
    """Engines the message says it does not want ("no need for news", "skip the forecast")."""
    return {
        kind
        for kind, cue in SECONDARY_CUES
        if re.search(rf"\b(no|not|without|skip|don'?t (need|want|care about)|no need for)\s+"
                     rf"(?:the\s+|any\s+)?(?:{cue})", lowered)
    }  # fmt: skip


def _moves_a_day(lowered: str) -> bool:
    """ "and the next day?": a window moved, not a horizon ahead."""
    return any(re.search(pattern, lowered) for pattern, _ in SHIFTS)


def not_yet(lowered: str) -> str | None:
    """What the assistant cannot answer yet, when the question asks for it."""
    return next((what for pattern, what in NOT_YET if re.search(pattern, lowered)), None)


def also_asked(lowered: str, ents: Entities, intent: Intent) -> list[Intent]:
    """The engines a question asks besides its main intent, in the tool table's order (for a
    comparison, the engines to compare the coins on: "compare the news mood of BTC and ETH")."""
    if intent == "compare":
        return [
            k
            for k, cue in SECONDARY_CUES
            if k in ("forecast", "sentiment") and re.search(cue, lowered)
        ]
    if intent == "accuracy":  # names forecasts and prices: only an explicit request adds one
        kinds = [
            k
            for k, cue in SECONDARY_CUES
            if k in ("technical", "sentiment") and re.search(cue, lowered)
        ]
        explicit = {"price": ACCURACY_ALSO_PRICE, "forecast": ACCURACY_ALSO_FORECAST}
        return [
            k
            for k, _ in SECONDARY_CUES
            if k in kinds or (k in explicit and re.search(explicit[k], lowered))
        ]
    if intent not in ENGINE_INTENTS:
        return []
    asked = {kind for kind, cue in SECONDARY_CUES if re.search(cue, lowered)}
    if intent == "forecast" and not re.search(FORECAST_ALSO_PRICE, lowered):
        asked.discard("price")  # "ETH's price two weeks from now" is the forecast itself
    if ents.indicators:
        asked.add("technical")
    if ents.horizon_days is not None and not _moves_a_day(lowered):
        asked.add("forecast")
    if ents.window is not None:
        asked.add("price")  # "how did BTC do in 2024 and what's the forecast?"
    asked -= _declined(lowered)
    return [kind for kind, _ in SECONDARY_CUES if kind in asked and kind != intent]
