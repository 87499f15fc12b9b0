"""Symbol tagging: cashtags, names, aliases, and ambiguous words left alone."""

from __future__ import annotations

import pytest

from tools.sentiment.tagging import tag_symbols


@pytest.mark.parametrize(
    ("text", "symbols"),
    [
        ("Bitcoin hits an all-time high", ["BTC-USD"]),
        ("$SOL and $eth rally", ["ETH-USD", "SOL-USD"]),
        ("ETH and SOL lead gains, LINK lags", ["ETH-USD", "SOL-USD", "LINK-USD"]),
        ("Bitcoin Cash forks again", ["BCH-USD"]),
        ("Ethereum Classic hash rate drops", ["ETC-USD"]),
        ("Ripple wins SEC case, XRP jumps", ["XRP-USD"]),
        ("Avalanche network upgrade boosts the token", ["AVAX-USD"]),
        ("Ether slips as ETF outflows mount", ["ETH-USD"]),
        ("Cardano (ADA) and Dogecoin rise", ["ADA-USD", "DOGE-USD"]),
        ("Uniswap governance vote passes", ["UNI7083-USD"]),
        ("BTC-USD falls below support", ["BTC-USD"]),
        # ordinary words and other acronyms
        ("Link to the article", []),
        ("the dot-com era is back", []),
        ("Stellar earnings lift stocks", []),
        ("Ripple effect on markets", []),
        ("An avalanche of orders hits retailers", []),
        ("sol y sombra", []),
        ("ADA compliance lawsuit filed", []),
        ("Musk says DOGE cut jobs at the Department of Education", []),
        ("btc, eth, etc.", ["BTC-USD", "ETH-USD"]),
    ],
)
def test_tags(text: str, symbols: list[str]) -> None:
    assert tag_symbols(text) == symbols


def test_a_crypto_source_vouches_for_ambiguous_tickers() -> None:
    assert tag_symbols("DOGE pumps 20%") == []
    assert tag_symbols("DOGE pumps 20%", assume_crypto=True) == ["DOGE-USD"]
    assert (
        tag_symbols("DOGE staff leave the government efficiency office", assume_crypto=True) == []
    )
    assert tag_symbols("link in bio", assume_crypto=True) == []  # lowercase never counts
    assert tag_symbols("Ripple effect: markets wait for the Fed", assume_crypto=True) == []
    assert tag_symbols("Stellar quarter for Coinbase", assume_crypto=True) == []
    assert tag_symbols("Ripple effect of the XRP token ruling") == ["XRP-USD"]
