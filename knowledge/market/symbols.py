"""The coin catalogue: Yahoo-style symbols with names and the aliases people type."""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.errors import UnknownSymbolError


@dataclass(frozen=True)
class Coin:
    """A supported coin: `symbol` is Yahoo style (`BTC-USD`), `ticker` the short code."""

    symbol: str
    name: str
    aliases: tuple[str, ...] = ()

    @property
    def ticker(self) -> str:
        """BTC for BTC-USD (Yahoo's disambiguating digits dropped: UNI7083-USD -> UNI)."""
        return re.sub(r"\d+$", "", self.symbol.split("-")[0])


CATALOGUE: tuple[Coin, ...] = (
    Coin("BTC-USD", "Bitcoin", ("xbt", "btc", "bitcoin", "bitcoins")),
    Coin("ETH-USD", "Ethereum", ("eth", "ether", "ethereum")),
    Coin("SOL-USD", "Solana", ("sol", "solana")),
    Coin("BNB-USD", "BNB", ("bnb", "binance coin", "binancecoin")),
    Coin("XRP-USD", "XRP", ("xrp", "ripple")),
    Coin("ADA-USD", "Cardano", ("ada", "cardano")),
    Coin("DOGE-USD", "Dogecoin", ("doge", "dogecoin")),
    Coin("TRX-USD", "TRON", ("trx", "tron")),
    Coin("AVAX-USD", "Avalanche", ("avax", "avalanche")),
    Coin("DOT-USD", "Polkadot", ("dot", "polkadot")),
    Coin("LINK-USD", "Chainlink", ("link", "chainlink")),
    Coin("LTC-USD", "Litecoin", ("ltc", "litecoin")),
    Coin("BCH-USD", "Bitcoin Cash", ("bch", "bitcoin cash", "bitcoincash")),
    Coin("XLM-USD", "Stellar", ("xlm", "stellar", "lumens")),
    Coin("ATOM-USD", "Cosmos", ("atom", "cosmos")),
    Coin("UNI7083-USD", "Uniswap", ("uni", "uniswap")),
    Coin("SHIB-USD", "Shiba Inu", ("shib", "shiba", "shiba inu")),
    Coin("ETC-USD", "Ethereum Classic", ("etc", "ethereum classic")),
)

_BY_KEY: dict[str, Coin] = {}
for _coin in CATALOGUE:
    for _key in (_coin.symbol, _coin.ticker, _coin.name, *_coin.aliases):
        _BY_KEY[_key.lower()] = _coin
_BY_KEY["uni-usd"] = _BY_KEY["uni7083-usd"]


def supported_symbols() -> list[str]:
    """Every Yahoo symbol in the catalogue, in catalogue order."""
    return [coin.symbol for coin in CATALOGUE]


def find_coin(text: str) -> Coin | None:
    """The coin named by a symbol, ticker, name or alias (case and `$` cashtag ignored)."""
    key = re.sub(r"\s+", " ", text.strip().lstrip("$").lower())
    return _BY_KEY.get(key)


def resolve(text: str) -> Coin:
    """Like `find_coin`, but an unknown name raises `UnknownSymbolError` listing the supported."""
    coin = find_coin(text)
    if coin is None:
        raise UnknownSymbolError(text, supported_symbols())
    return coin
