"""Crypto and market-news vocabulary added to VADER (valence on VADER's -4..+4 scale).

VADER was built for social media in general: it has no valence for "bullish", "hack",
"delisting" or "rally", and it reads "all-time high" as three neutral words. `WORDS` adds single
tokens (inflected forms listed explicitly, VADER does no stemming); `PHRASES` are multi-word
expressions the analyzer rewrites into one token before scoring, so negation and boosters
("not a rug pull", "huge bull run") apply to the phrase as a whole. Values follow VADER's
calibration: about 2 for clearly good or bad news, about 3 for severe events.
"""

from __future__ import annotations


def _forms(valence: float, *words: str) -> dict[str, float]:
    return dict.fromkeys(words, valence)


WORDS: dict[str, float] = {
    # market mood
    **_forms(2.5, "bullish", "bullrun"),
    **_forms(-2.5, "bearish"),
    **_forms(1.0, "bull", "bulls", "hodl", "hodling", "hodlers", "halving", "halvening"),
    **_forms(-1.0, "bear", "bears"),
    **_forms(2.2, "moon", "mooning", "moonshot", "lambo"),
    **_forms(-2.8, "rekt"),
    **_forms(-1.6, "fud", "capitulation", "capitulates", "panic"),
    **_forms(1.2, "fomo", "accumulation", "accumulating", "accumulate"),
    **_forms(-2.0, "dump", "dumps", "dumped", "dumping", "selloff", "sell-off"),
    **_forms(0.8, "pump", "pumps", "pumped", "pumping"),
    # price action
    **_forms(1.8, "rally", "rallies", "rallied", "rallying", "breakout", "skyrockets"),
    **_forms(2.0, "surge", "surges", "surged", "surging", "soar", "soars", "soared", "soaring"),
    **_forms(1.5, "jump", "jumps", "jumped", "rebound", "rebounds", "rebounded", "spikes"),
    **_forms(1.2, "climb", "climbs", "climbed", "rise", "rises", "rose", "rising", "recovers"),
    **_forms(1.0, "higher", "up", "upside", "inflows", "inflow", "gains", "gained", "advances"),
    **_forms(-2.5, "plunge", "plunges", "plunged", "plummet", "plummets", "plummeted", "crash"),
    **_forms(-2.5, "crashes", "crashed", "crashing", "collapse", "collapses", "collapsed"),
    **_forms(-2.0, "tumble", "tumbles", "tumbled", "slump", "slumps", "slumped", "tanks"),
    **_forms(-1.5, "sink", "sinks", "sank", "slide", "slides", "slid", "slips", "sheds"),
    **_forms(-1.3, "fall", "falls", "fell", "falling", "drops", "dropped", "declines"),
    **_forms(-1.3, "declined", "decline", "dip", "dips", "dipped", "lower", "down", "downside"),
    **_forms(-1.2, "outflows", "outflow", "losses", "weakness", "selling"),
    # security and regulation
    **_forms(-2.8, "hack", "hacks", "hacked", "hacker", "hackers", "exploit", "exploits"),
    **_forms(-2.8, "exploited", "drained", "stolen", "theft", "breach", "rugpull", "rugged"),
    **_forms(-2.3, "delist", "delists", "delisted", "delisting", "ban", "bans", "banned"),
    **_forms(-2.0, "crackdown", "lawsuit", "sues", "sued", "fraud", "scam", "ponzi"),
    **_forms(-1.5, "probe", "subpoena", "investigation", "charges", "charged", "fined"),
    **_forms(-1.8, "liquidation", "liquidations", "liquidated", "depeg", "depegs", "depegged"),
    **_forms(-3.0, "bankruptcy", "bankrupt", "insolvency", "insolvent", "defaults"),
    **_forms(1.8, "approval", "approves", "approved", "greenlight", "greenlights", "listing"),
    **_forms(1.5, "adoption", "partnership", "partners", "launches", "integrates", "buyback"),
    # analyst and company news
    **_forms(1.8, "upgrade", "upgrades", "upgraded", "outperform", "outperforms", "outperforming"),
    **_forms(-1.8, "downgrade", "downgrades", "downgraded", "underperform", "underperforming"),
    **_forms(-2.0, "hammered", "battered", "slammed", "routed", "wipes", "wiped", "bleeding"),
    **_forms(-1.3, "souring", "sours", "fading", "fades", "loses", "lose", "shuts", "shut"),
    **_forms(-1.3, "slowdown", "slows", "shrinks", "shrinking", "contraction", "recession"),
    **_forms(1.3, "exceeded", "beating", "upbeat", "optimism", "optimistic", "expansion"),
    **_forms(1.5, "beat", "beats", "tops", "exceeds", "raises", "raised", "boosts", "record"),
    **_forms(-1.5, "miss", "misses", "missed", "cuts", "slashes", "slashed", "warns", "layoffs"),
    **_forms(1.2, "profit", "profitable", "growth", "expands", "strong", "strength"),
    **_forms(-1.2, "loss", "weak", "disappointing", "halts", "suspends", "delays", "delay"),
}

PHRASES: dict[str, float] = {
    "to the moon": 3.0,
    "bull run": 2.5,
    "bull market": 2.2,
    "bear market": -2.2,
    "all-time high": 2.8,
    "all time high": 2.8,
    "record high": 2.5,
    "new high": 2.0,
    "52-week high": 1.8,
    "all-time low": -2.5,
    "all time low": -2.5,
    "record low": -2.5,
    "52-week low": -1.8,
    "etf approval": 2.8,
    "etf approved": 2.8,
    "etf inflows": 2.0,
    "etf rejection": -2.5,
    "etf rejected": -2.5,
    "etf denied": -2.5,
    "etf outflows": -2.0,
    "golden cross": 2.0,
    "death cross": -2.0,
    "short squeeze": 1.5,
    "rug pull": -3.2,
    "rug pulled": -3.2,
    "exit scam": -3.2,
    "pump and dump": -2.5,
    "sell off": -2.0,
    "buy rating": 1.8,
    "sell rating": -1.8,
    "price target raised": 1.8,
    "raises price target": 1.8,
    "price target cut": -1.8,
    "cuts price target": -1.8,
    "beats estimates": 2.0,
    "misses estimates": -2.0,
    "going to zero": -2.5,
    "strong buy": 2.5,
    "strong sell": -2.5,
    "as buy": 1.5,
    "to buy from": 1.8,
    "to sell from": -1.8,
    "reasons to buy": 2.0,
    "reasons to sell": -2.0,
    "time to buy": 1.5,
    "time to sell": -1.5,
    "rate cut": 1.5,
    "rate cuts": 1.5,
    "cuts rates": 1.5,
    "cuts interest rates": 1.5,
    "cuts tariffs": 1.5,
    "tariff cut": 1.5,
    "rate hike": -1.5,
    "rate hikes": -1.5,
    "hikes rates": -1.5,
    "raises rates": -1.5,
    "picks up": 1.0,
    "picked up": 1.0,
    "shrugs off": 1.2,
    "shrugging off": 1.2,
    "shrug off": 1.2,
    "risk on": 1.2,
    "risk off": -1.2,
}

#: Valence of an explicit signed move in a headline ("+14.5%", "(-8.7% pre)").
SIGNED_MOVE_VALENCE = 2.0

#: VADER's own (general-purpose) words are scaled by this in news: "fake", "mistake" or "kill"
#: say less about a market than "plunge" or "hack" do.
GENERAL_WORD_SCALE = 0.6

#: Words that negate the crypto term (or phrase) within the next three tokens.
NEGATORS: frozenset[str] = frozenset(
    {
        "not",
        "no",
        "never",
        "without",
        "isn't",
        "isnt",
        "aren't",
        "arent",
        "wasn't",
        "wasnt",
        "weren't",
        "werent",
        "don't",
        "dont",
        "doesn't",
        "doesnt",
        "didn't",
        "didnt",
        "won't",
        "wont",
        "cannot",
        "can't",
        "cant",
        "hardly",
        "nor",
        "neither",
        "nothing",
        "none",
        "zero",
        "denies",
        "denied",
        "avoids",
        "avoided",
        "delays",
        "postpones",
        "rejects",
        "blocks",
    }
)

#: Scale applied to a negated term: "not bullish" leans bearish, but "no hack" is only mild
#: relief (the absence of bad news is weaker news than good news).
NEGATED_POSITIVE_SCALE = -0.6
NEGATED_NEGATIVE_SCALE = -0.35
