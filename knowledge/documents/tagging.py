"""Coin tags for documents: from front matter (any alias) or found in the text.

Text tagging is deliberately strict, because many aliases are ordinary words ("link", "dot",
"atom", "uni"): a coin is tagged when its full name appears (Chainlink, Polkadot), or its
ticker in capitals ("LINK", "$dot"). Longer names win over shorter ones they contain, so
"Bitcoin Cash" tags BCH and not BTC, and "Ethereum Classic" tags ETC and not ETH.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from knowledge.market.symbols import CATALOGUE, Coin, find_coin

# Names that are also common words match only capitalised (Stellar, Cosmos), never lower case.
_WORDLIKE_NAMES = {"stellar", "cosmos", "avalanche", "tron", "lumens", "ripple", "ether"}


def _name_patterns() -> list[tuple[re.Pattern[str], Coin]]:
    patterns: list[tuple[str, Coin, int]] = []
    for coin in CATALOGUE:
        names = {coin.name.lower()} | {a for a in coin.aliases if len(a) > 4}
        for name in names - {coin.ticker.lower()}:
            if name in _WORDLIKE_NAMES:
                shown = coin.name if coin.name.lower() == name else name.capitalize()
                patterns.append((rf"(?<![\w$]){re.escape(shown)}(?!\w)", coin, 0))
            else:
                patterns.append((rf"(?<![\w$]){re.escape(name)}s?(?!\w)", coin, re.IGNORECASE))
        # tickers: capitals only (BTC, LINK), or a cashtag in any case ($link)
        patterns.append((rf"(?<![\w$]){re.escape(coin.ticker)}(?!\w)", coin, 0))
        patterns.append((rf"\${re.escape(coin.ticker)}(?!\w)", coin, re.IGNORECASE))
    patterns.sort(key=lambda p: -len(p[0]))  # longest first: "bitcoin cash" before "bitcoin"
    return [(re.compile(p, flags), coin) for p, coin, flags in patterns]


_PATTERNS = _name_patterns()


def normalise_symbols(values: Iterable[str]) -> tuple[str, ...]:
    """Yahoo symbols for the given names/tickers/aliases; unknown names are dropped."""
    found: dict[str, None] = {}
    for value in values:
        coin = find_coin(str(value))
        if coin is not None:
            found[coin.symbol] = None
    return tuple(found)


def mentions(text: str) -> Counter[str]:
    """How many times each coin is named in `text` (Yahoo symbol -> count)."""
    counts: Counter[str] = Counter()
    remaining = text
    for pattern, coin in _PATTERNS:
        hits = pattern.findall(remaining)
        if not hits:
            continue
        counts[coin.symbol] += len(hits)
        remaining = pattern.sub(" ", remaining)  # a longer name is not counted again
    return counts


def tag_symbols(title: str, text: str, *, min_mentions: int = 2) -> tuple[str, ...]:
    """Coins a document is about: named in the title, or at least `min_mentions` times in it."""
    in_title = mentions(title)
    in_text = mentions(text)
    tagged = [*in_title, *(s for s, n in in_text.items() if n >= min_mentions)]
    return tuple(dict.fromkeys(sorted(tagged, key=_catalogue_order)))


def _catalogue_order(symbol: str) -> int:
    for index, coin in enumerate(CATALOGUE):
        if coin.symbol == symbol:
            return index
    return len(CATALOGUE)
