"""Which coins a headline mentions: cashtags, names and aliases from the catalogue.

Many aliases are ordinary words ("link", "dot", "sol", "atom", "uni", "etc", "cosmos",
"stellar", "ripple effect", "avalanche of orders") or acronyms ("ADA", the disability act;
"DOGE", the US government department). So:
- a cashtag (`$SOL`) always counts;
- unambiguous names and tickers (bitcoin, btc, solana, xrp, ...) count in any case;
- ambiguous tickers count only written in capitals as a word (`SOL`, `LINK`), never `sol`,
  and only in crypto context: another coin in the text, words such as token, blockchain or
  crypto, or a source known to be about crypto (`assume_crypto`, set for the crypto feeds);
- ambiguous names count only capitalised (`Ripple`, `Avalanche`), never in idioms ("ripple
  effect", "an avalanche of"), and only with crypto context in the text itself: a crypto feed
  still writes "Stellar quarter" or "Ripple effect" in plain English;
- "DOGE" next to "government efficiency" or "department" is not Dogecoin.
Multi-word names are matched first so "Bitcoin Cash" is BCH, not also BTC.
"""

from __future__ import annotations

import re
from functools import lru_cache

from knowledge.market.symbols import CATALOGUE, find_coin

AMBIGUOUS_TICKERS = frozenset({"sol", "link", "dot", "atom", "uni", "etc", "ada", "doge"})
AMBIGUOUS_NAMES = frozenset(
    {"ether", "tron", "avalanche", "cosmos", "stellar", "ripple", "lumens", "shiba"}
)
CONTEXT_WORDS = re.compile(
    r"\b(?:crypto\w*|tokens?|coins?|blockchains?|altcoins?|defi|staking|stablecoins?|wallets?|"
    r"mainnet|validators?|on-chain|web3|nfts?|memecoins?|airdrops?|layer[- ]?[12]|dapps?|etfs?)\b",
    re.I,
)
_NOT_DOGECOIN = re.compile(
    r"government efficiency|department|musk'?s doge\b|doge (?:cuts|staff)", re.I
)
_IDIOMS = re.compile(
    r"\bripple effects?\b|\bavalanche of\b|\bstellar (?:year|quarter|results?)", re.I
)
_CASHTAG = re.compile(r"(?<![\w$])\$([A-Za-z][A-Za-z0-9]{1,9})\b")


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[re.Pattern[str], str, str]]:
    """(pattern, symbol, kind) for every name/alias/ticker, longest first."""
    entries: dict[str, tuple[str, str]] = {}
    for coin in CATALOGUE:
        for term in (coin.symbol, coin.ticker, coin.name, *coin.aliases):
            key = term.lower()
            if key in AMBIGUOUS_TICKERS:
                kind = "ticker"
            elif key in AMBIGUOUS_NAMES:
                kind = "name"
            else:
                kind = "plain"
            entries.setdefault(key, (coin.symbol, kind))
    ordered = sorted(entries, key=len, reverse=True)
    found = []
    for term in ordered:
        symbol, kind = entries[term]
        body = r"[\s-]+".join(re.escape(w) for w in term.split())
        flags = re.I if kind == "plain" else 0
        if kind == "ticker":
            body = re.escape(term.upper())
        elif kind == "name":
            body = re.escape(term.capitalize())
        found.append((re.compile(rf"(?<![\w$]){body}(?![\w])", flags), symbol, kind))
    return found


def tag_symbols(text: str, *, assume_crypto: bool = False) -> list[str]:
    """Yahoo symbols of the coins `text` mentions, in catalogue order (no duplicates)."""
    found: set[str] = set()
    for match in _CASHTAG.finditer(text):
        coin = find_coin(match.group(1))
        if coin is not None:
            found.add(coin.symbol)
    masked = _IDIOMS.sub(" ", _CASHTAG.sub(" ", text))
    tickers: list[str] = []
    names: list[str] = []
    for pattern, symbol, kind in _patterns():
        if not pattern.search(masked):
            continue
        if kind == "plain":
            found.add(symbol)
        elif kind == "name":
            names.append(symbol)
        elif not (symbol == "DOGE-USD" and _NOT_DOGECOIN.search(text)):
            tickers.append(symbol)
        masked = pattern.sub(" ", masked)  # "Bitcoin Cash" must not also count as "Bitcoin"
    in_text = bool(found) or bool(CONTEXT_WORDS.search(text))
    if tickers and (in_text or assume_crypto):
        found.update(tickers)
    if names and (in_text or bool(tickers)):
        found.update(names)
    order = {coin.symbol: i for i, coin in enumerate(CATALOGUE)}
    return sorted(found, key=order.__getitem__)
