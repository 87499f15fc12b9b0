"""A local 1.5B model in the chat: routing accuracy on the held-out turns of
`benchmarks/routing/utterances.jsonl`, turn latency, load time and memory.

The model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M, `benchmarks/local_model.py`) is served in this
process by llama.cpp through `LLM_MODEL=local:PATH`. Every held-out thread is sent turn by turn
to `ChatService` on an embedded Postgres with the shared daily prices, once per mode: keyless
alone (the reference), schema routing with the model asked on every turn, the keyless router
when it is sure and the model when it is not (the default), and native tool calling on a
subset. Turns are scored as `bench_routing.py` scores them (its `score`): routed right when the
tools, coins, window and horizon all match.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench_routing import TABLE, canonical, score
from common import ROOT, SHARED_PRICES, percentile, scratch_postgres
from local_model import fetch_model
from rich.console import Console
from rich.table import Table

from agent.core import Services
from agent.errors import InvalidRequestError
from agent.graph.chat import thread_key
from agent.settings import Settings

CACHE = ROOT / "var" / "llm-bench"
FALLBACK = "The language model did not answer"
# mode: settings (the names say who routes: keyless alone, the model on every turn, or the
# keyless router when it is sure and the model when it is not)
MODES: dict[str, dict[str, Any]] = {
    "keyless": {"llm_model": None},
    "schema always": {"llm_tool_mode": "schema", "llm_ask": "always"},
    "keyless + schema if unsure": {"llm_tool_mode": "schema", "llm_ask": "unsure"},
    "native always": {"llm_tool_mode": "native", "llm_ask": "always"},
}
SCHEMA, NATIVE = "schema always", "native always"


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory (VmRSS) or its peak (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def coin(value: Any) -> str:
    try:
        return canonical(str(value))
    except Exception:  # a symbol outside the catalogue (a native call's free text)
        return str(value)


def observed(tools_used: list[Any], plan: dict[str, Any] | None) -> dict[str, Any]:
    """A turn's calls in the shape `bench_routing.score` reads."""
    calls = [(t.name, t.args) for t in tools_used]
    window = next(([a.get("start"), a.get("end") or a.get("start")]
                   for n, a in calls if n == "price_history"), None)  # fmt: skip
    horizon = next((a.get("horizon_days") or 7 for n, a in calls if n == "forecast_price"), None)
    coins = {coin(a["symbol"]) for _, a in calls if isinstance(a.get("symbol"), str)}
    return {
        "tools": sorted({n for n, _ in calls}),
        "coins": sorted(coins or {coin(s) for s in (plan or {}).get("symbols", [])}),
        "window": window,
        "horizon": horizon,
    }


async def run_mode(
    url: str, name: str, overrides: dict[str, Any], threads: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    """Every thread's turns through one chat service in mode `name`; scores, times, memory."""
    before = rss_mb()
    settings = Settings(_env_file=None, database_url=url, market_provider="none", **overrides)  # type: ignore[call-arg]
    services = Services.build(settings)
    started = time.perf_counter()
    chat = await services.start_chat()
    out: dict[str, Any] = {"start_s": time.perf_counter() - started, "turns": []}
    server = services.llm.server if services.llm else None
    if server is not None:
        out |= {"load_s": server.load_seconds, "rss_model_mb": rss_mb() - before}
        warm = time.perf_counter()
        await services.warm_up  # the routing prompt read once, before the first question
        out["warm_s"] = time.perf_counter() - warm
    for thread, turns in threads.items():
        for row in turns:
            t0 = time.perf_counter()
            try:
                result = await chat.reply(f"{name[:6]}-{thread}", row["text"], "cli")
                used, mode, notes = result.tools_used, result.mode, result.notes
            except InvalidRequestError:  # the turn's time limit
                used, mode, notes = [], "timeout", []
            ms = (time.perf_counter() - t0) * 1000
            config = {"configurable": {"thread_id": thread_key("cli", f"{name[:6]}-{thread}")}}
            plan = (await chat.graph.aget_state(config)).values.get("plan")
            fell_back = any(n.startswith(FALLBACK) for n in notes)
            got = observed(used, plan)
            routed, entities = score(row, got)
            out["turns"].append({"row": row, "got": got, "ms": ms, "mode": mode,
                                 "routed": routed, "entities": entities,
                                 "asked": mode == "llm" or fell_back,
                                 "fallback": fell_back or mode == "timeout"})  # fmt: skip
    out["rss_peak_mb"] = rss_mb("VmHWM")
    await services.aclose()
    return out


def threads_of(rows: list[dict[str, Any]], limit: int | None) -> dict[str, list[dict[str, Any]]]:
    threads: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r["thread"], r["turn"])):
        threads[row["thread"]].append(row)
    names = sorted(threads)[:limit] if limit else sorted(threads)
    return {name: threads[name] for name in names}


def report(results: dict[str, dict[str, Any]], model: Path, split: str) -> None:
    console = Console(width=150)
    table = Table(title=f"Routing of the {split} turns and turn latency, {model.name}")
    for col in ("mode", "turns", "routed right", "entities right", "model asked",
                "fallbacks", "turn p50 s", "turn p95 s", "asked p50 s", "asked p95 s"):  # fmt: skip
        table.add_column(col, justify="left" if col == "mode" else "right")
    for name, res in results.items():
        turns = res["turns"]
        ms = [t["ms"] for t in turns]
        asked = [t["ms"] for t in turns if t["asked"]] or [float("nan")]
        n = len(turns)
        table.add_row(
            name, str(n),
            f"{sum(t['routed'] for t in turns)} ({100 * sum(t['routed'] for t in turns) / n:.1f}%)",
            f"{sum(t['entities'] for t in turns)} ({100 * sum(t['entities'] for t in turns) / n:.1f}%)",
            str(sum(t["asked"] for t in turns)), str(sum(t["fallback"] for t in turns)),
            f"{percentile(ms, 50) / 1000:.2f}", f"{percentile(ms, 95) / 1000:.2f}",
            f"{percentile(asked, 50) / 1000:.2f}", f"{percentile(asked, 95) / 1000:.2f}",
        )  # fmt: skip
    console.print(table)
    served = {k: v for k, v in results.items() if "load_s" in v}
    memory = Table(title="The local model: load, first reading of the routing prompt, memory")
    for col in ("mode", "load s", "warm-up s", "RSS added by the model MB", "process peak MB"):
        memory.add_column(col, justify="left" if col == "mode" else "right")
    for name, res in served.items():
        memory.add_row(name, f"{res['load_s']:.2f}", f"{res['warm_s']:.2f}",
                       f"{res['rss_model_mb']:,.0f}", f"{res['rss_peak_mb']:,.0f}")  # fmt: skip
    console.print(memory)
    classes = sorted({t["row"]["class"] for res in results.values() for t in res["turns"]})
    per = Table(title="Routed right per class")
    per.add_column("class")
    for name in results:
        per.add_column(name, justify="right")
    for cls in classes:
        cells = []
        for res in results.values():
            mine = [t for t in res["turns"] if t["row"]["class"] == cls]
            cells.append(f"{sum(t['routed'] for t in mine)}/{len(mine)}" if mine else "-")
        per.add_row(cls, *cells)
    console.print(per)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, help="a GGUF to use instead of the 1.5B")
    parser.add_argument("--native-threads", type=int, default=25, help="threads of the subset")
    parser.add_argument("--threads", type=int, help="only the first N held-out threads")
    parser.add_argument("--json", type=Path, help="also write the raw turns here")
    parser.add_argument(
        "--split", default="heldout", choices=("heldout", "train"), help="tune on train only"
    )
    parser.add_argument(
        "--modes", type=lambda v: v.split(","), default=list(MODES), help=", ".join(MODES)
    )
    args = parser.parse_args()
    model = args.model or fetch_model(CACHE)
    rows = [json.loads(line) for line in TABLE.read_text().splitlines() if line.strip()]
    held = [row for row in rows if row["split"] == args.split]
    results: dict[str, dict[str, Any]] = {}
    with scratch_postgres() as url:
        loader = Services.build(Settings(_env_file=None, database_url=url, market_provider="none"))  # type: ignore[call-arg]
        loader.market.import_paths([SHARED_PRICES])
        loader.db.close()
        for name in args.modes:
            overrides = MODES[name]
            limit = args.native_threads if name == NATIVE else args.threads
            values = {"llm_model": f"local:{model}"} | overrides
            results[name] = asyncio.run(run_mode(url, name, values, threads_of(held, limit)))
    if NATIVE in results and SCHEMA in results:
        subset = {t["row"]["thread"] for t in results[NATIVE]["turns"]}
        results["schema always (native subset)"] = results[SCHEMA] | {
            "turns": [t for t in results[SCHEMA]["turns"] if t["row"]["thread"] in subset]
        }
    report(results, model, args.split)
    if args.json:
        args.json.write_text(json.dumps(results, default=str, indent=1))


if __name__ == "__main__":
    main()
