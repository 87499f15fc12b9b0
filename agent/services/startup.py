"""What a process loads when it starts: the market data of `CRYPTO_DATA_DIR`, or a refresh from
the provider, with one line saying what happened (the API logs it, the bot too)."""

from __future__ import annotations

from pathlib import Path

from agent.services.market import MarketService
from knowledge.errors import KnowledgeError


def _from_provider(market: MarketService) -> str:
    symbols = market.symbols(None)
    probe = market.refresh(symbols[:1])  # one try first: offline fails fast
    if not probe[0].ok:
        stored = len(market.prices.coverage())
        outcome = (
            f"serving the {stored} stored series, marked stale"
            if stored
            else "no market data could be loaded. Set CRYPTO_DATA_DIR to a folder of "
            "CSV files or run `crypto-assistant data import PATH`"
        )
        return f"market data: the provider could not be reached ({probe[0].message}); {outcome}."
    refreshed = probe + market.refresh(symbols[1:])
    ok = [r for r in refreshed if r.ok]
    return f"market data: refreshed {len(ok)}/{len(refreshed)} symbols from the provider"


def load_market_data(
    market: MarketService, data_dir: Path | None, *, provider_refresh: bool = True
) -> str:
    """Import `data_dir` if set, else refresh from the provider; say what happened. Servers
    pass `provider_refresh=False`: the workers refresh at their start and on the schedule."""
    try:
        if data_dir is not None:
            results = market.import_paths([data_dir])
            new = [r for r in results if not r.skipped]
            return (
                f"market data: {len(results)} file(s) in {data_dir}, "
                f"{len(new)} imported, {len(results) - len(new)} unchanged"
            )
        if market.provider is not None and not provider_refresh:
            return "market data: the workers refresh it from the provider (start-up, schedule)"
        if market.provider is not None:
            return _from_provider(market)
    except KnowledgeError as exc:
        return f"market data: loading failed: {exc}"
    return "market data: no CRYPTO_DATA_DIR and no provider; nothing loaded"
