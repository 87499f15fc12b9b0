"""Concurrent offline chat turns: 50 at once on one thread (they queue on its turn lock) against
50 at once on 50 threads (the baseline, side by side), measured in the same run.

In-process ChatService on an embedded Postgres with the shared daily prices (or --synthetic),
the same "what is X at?" turns as tests/integration/test_chat_concurrency.py. A warm-up round
fills the caches first; every turn runs the planner, the tools, the composer, the grounding
check, the thread's ownership claim, its advisory lock and its Postgres checkpoint.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, SHARED_PRICES, percentile, scratch_postgres
from rich.console import Console
from rich.table import Table

from agent.core import Services
from agent.graph.chat import ChatService
from agent.settings import Settings

COINS = ("BTC", "ETH", "SOL", "BNB", "XRP")


def price_files(folder: Path, synthetic: bool) -> Path:
    """The coins' daily files in `folder`: the shared ones, or seeded synthetic bars."""
    shared = [SHARED_PRICES / f"{coin}-USD.csv" for coin in COINS]
    if not synthetic and all(path.exists() for path in shared):
        for path in shared:
            shutil.copy(path, folder / path.name)
        return folder
    sys.path.insert(0, str(ROOT))
    from tests.factories import synthetic_bars, write_csv

    for seed, coin in enumerate(COINS, start=1):
        bars = synthetic_bars(3000, seed=seed, price=100.0 * seed)
        write_csv(folder, f"{coin}-USD.csv", bars)
    return folder


async def burst(chat: ChatService, threads: list[str]) -> tuple[list[float], float]:
    """Ask one "what is X at?" per thread entry, all at once; (turn seconds, wall seconds)."""

    async def one(i: int, thread: str) -> float:
        began = time.perf_counter()
        await chat.reply(thread, f"what is {COINS[i % len(COINS)]} at?", surface="cli")
        return time.perf_counter() - began

    began = time.perf_counter()
    latencies = await asyncio.gather(*(one(i, t) for i, t in enumerate(threads)))
    return list(latencies), time.perf_counter() - began


async def run(turns: int, synthetic: bool) -> dict[str, tuple[list[float], float]]:
    """Warm up, then the baseline burst on `turns` threads and the burst on one thread."""
    results: dict[str, tuple[list[float], float]] = {}
    with scratch_postgres() as url, tempfile.TemporaryDirectory() as tmp:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=url,
            market_provider="none",
            load_data_on_start=False,
            history_messages=4 * turns,
            turn_timeout_seconds=600,
        )
        services = Services.build(settings)
        services.market.import_paths([price_files(Path(tmp), synthetic)])
        chat = await services.start_chat()
        try:
            await burst(chat, [f"warm-{i}" for i in range(len(COINS))])
            results["one turn alone"] = await burst(chat, ["alone"])
            results[f"{turns} threads"] = await burst(chat, [f"many-{i}" for i in range(turns)])
            results["1 thread"] = await burst(chat, ["one"] * turns)
        finally:
            await services.aclose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--synthetic", action="store_true")
    args = parser.parse_args()
    results = asyncio.run(run(args.turns, args.synthetic))
    baseline = percentile(results[f"{args.turns} threads"][0], 95)
    table = Table(
        title=f"{args.turns} concurrent offline chat turns, warm; baseline: {args.turns} threads"
    )
    for col in ("scenario", "turns", "p50 ms", "p95 ms", "max ms", "wall s", "p95 / baseline"):
        table.add_column(col, justify="left" if col == "scenario" else "right")
    for name, (latencies, wall) in results.items():
        p95 = percentile(latencies, 95)
        table.add_row(
            name,
            str(len(latencies)),
            f"{percentile(latencies, 50) * 1000:.0f}",
            f"{p95 * 1000:.0f}",
            f"{max(latencies) * 1000:.0f}",
            f"{wall:.2f}",
            f"{p95 / baseline:.2f}x",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
