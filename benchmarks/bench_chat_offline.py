"""Offline chat turn latency (warm), and the graph's own overhead against the tools' time.

In-process ChatService on an embedded Postgres with the shared daily prices (or --synthetic).
Each turn runs the planner, the tools (cache warm after the first round), the composer, the
grounding check and the Postgres checkpoint. Overhead = turn time minus the tools' time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, SHARED_PRICES, percentile, scratch_postgres
from rich.console import Console
from rich.table import Table

from agent.core import Services
from agent.settings import Settings

QUESTIONS = [
    "What is the RSI of BTC?",
    "and for ETH?",
    "how much did SOL move last week?",
    "compare btc and eth",
    "should I buy XRP?",
    "what is macd?",
]


async def run(rounds: int, synthetic: bool) -> list[tuple[str, float, float]]:
    samples: list[tuple[str, float, float]] = []
    with scratch_postgres() as url, tempfile.TemporaryDirectory() as tmp:
        services = Services.build(
            Settings(_env_file=None, database_url=url, market_provider="none")
        )  # type: ignore[call-arg]
        if synthetic or not SHARED_PRICES.exists():
            sys.path.insert(0, str(ROOT))
            from tests.factories import synthetic_bars, write_csv

            for i, name in enumerate(("BTC", "ETH", "SOL", "XRP")):
                write_csv(Path(tmp), f"{name}-USD.csv", synthetic_bars(3000, seed=i))
            services.market.import_paths([Path(tmp)])
        else:
            services.market.import_paths([SHARED_PRICES])
        chat = await services.start_chat()
        for round_ in range(rounds + 1):
            for question in QUESTIONS:
                started = time.perf_counter()
                result = await chat.reply(f"bench-{round_}", question, surface="cli")
                total = (time.perf_counter() - started) * 1000
                tools = sum(t.ms for t in result.tools_used)
                if round_ > 0:  # round 0 warms the caches
                    samples.append((question, total, tools))
        await services.aclose()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--synthetic", action="store_true")
    args = parser.parse_args()
    samples = asyncio.run(run(args.rounds, args.synthetic))
    table = Table(
        title=f"Offline chat turns, warm cache, {args.rounds} rounds of {len(QUESTIONS)} questions"
    )
    for col in ("question", "p50 ms", "p95 ms", "tools p50 ms", "graph overhead / tools"):
        table.add_column(col, justify="left" if col == "question" else "right")
    for question in [*QUESTIONS, "all turns"]:
        rows = [s for s in samples if question in (s[0], "all turns")]
        totals = [r[1] for r in rows]
        tools = [r[2] for r in rows]
        overhead = (sum(totals) - sum(tools)) / sum(tools) if sum(tools) else float("nan")
        table.add_row(
            question,
            f"{percentile(totals, 50):.1f}",
            f"{percentile(totals, 95):.1f}",
            f"{percentile(tools, 50):.1f}",
            f"{overhead:.2f}x" if sum(tools) else "no tools",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
