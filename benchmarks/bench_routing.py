"""Keyless routing against a labelled table of utterances, the old planner beside the current
one, in one run.

`benchmarks/routing/utterances.jsonl` holds conversations written without reading the
planner's vocabulary: each turn with the tools it should call, its coins, its window of past
days and its forecast horizon, a class, and a split (`heldout` turns are never used to tune the
rules). Each planner runs in its own process (the old one from a git worktree of `--old`,
default the commit before this work), plans every thread turn by turn with the thread's
context, and is scored per turn: routed right when the tools, the coins, the window and the
horizon all match; entities right when the coins, window and horizon match.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TABLE = ROOT / "benchmarks" / "routing" / "utterances.jsonl"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
OLD = "09e8b9a"  # the planner before the work on understanding (issue 17)

PLAN_ALL = r"""
import json, sys, time
from datetime import date
from agent.offline.planner import ConversationContext, plan_turn
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
mode = sys.argv[2]
kwargs = {"today": date(2025, 12, 31)}  # the day the labels' relative dates count from
if mode == "rules":
    kwargs["classifier"] = None
elif mode.endswith(".json"):  # out-of-fold scores for training texts, the shipped head otherwise
    from agent.offline.classifier import IntentScores, default_classifier
    oof, shipped = json.load(open(mode)), default_classifier()
    class OutOfFold:
        def score(self, text):
            key = " ".join(text.lower().split())
            return IntentScores(oof[key]) if key in oof else shipped.score(text)
    kwargs["classifier"] = OutOfFold()
threads = {}
for row in sorted(rows, key=lambda r: (r["thread"], r["turn"])):
    threads.setdefault(row["thread"], []).append(row)
out = {}
for turns in threads.values():
    context = ConversationContext()
    for row in turns:
        started = time.perf_counter()
        plan = plan_turn(row["text"], context, **kwargs)
        ms = (time.perf_counter() - started) * 1000
        context = plan.updated_context(context)
        calls = [(c.name, c.args) for c in plan.tool_calls]
        window = next(([a.get("start"), a.get("end")] for n, a in calls if n == "price_history"), None)
        horizon = next((a.get("horizon_days") for n, a in calls if n == "forecast_price"), None)
        out[row["id"]] = {
            "tools": sorted({n for n, _ in calls}),
            # the coins the calls are about; with no call, the coins the plan read
            "coins": sorted({a["symbol"] for _, a in calls if isinstance(a.get("symbol"), str)}
                            or set(plan.symbols)),
            "window": window,
            "horizon": horizon,
            "ms": ms,
            "confident": getattr(plan, "confident", True),
        }
print(json.dumps(out))
"""


def plans(root: Path, table: Path, mode: str = "legacy") -> dict[str, Any]:
    """Every turn's plan by the planner of the checkout at `root` (`mode`: "legacy" for a
    planner without a classifier, "rules" to switch it off, "default" for the shipped head, or
    a JSON file of out-of-fold scores for training texts)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [PYTHON, "-c", PLAN_ALL, str(table), mode],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(f"planning with {root} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def canonical(symbol: str) -> str:
    """The catalogue's Yahoo symbol of a labelled coin (labels write UNI-USD for UNI7083-USD)."""
    from knowledge.market.symbols import resolve

    return resolve(symbol.removesuffix("-USD")).symbol


def score(row: dict[str, Any], got: dict[str, Any]) -> tuple[bool, bool]:
    """(routed right, entities right) of one turn."""
    # coins of a turn that calls no coin's tool may be left unlabelled (null)
    entities = row["coins"] is None or sorted(canonical(c) for c in row["coins"]) == got["coins"]
    if row.get("window"):
        entities = entities and got["window"] == row["window"]
    if row.get("horizon") is not None:
        entities = entities and got["horizon"] == row["horizon"]
    return entities and sorted(set(row["tools"])) == got["tools"], entities


def old_checkout(revision: str, folder: Path) -> Path:
    """A worktree of `revision` (the old planner), under `folder`."""
    target = folder / "old"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f", str(target), revision],
        check=True,
        capture_output=True,
    )
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--old", default=OLD, help="git revision of the old planner")
    parser.add_argument("--table", type=Path, default=TABLE)
    parser.add_argument(
        "--misses",
        choices=("train", "heldout"),
        help="list the current planner's misses of a split (tune on train only)",
    )
    parser.add_argument(
        "--oof",
        type=Path,
        help="out-of-fold scores of training texts (scripts/train_intents.py --oof), so the "
        "training split is scored by heads that never saw each turn",
    )
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.table.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        old_root = old_checkout(args.old, Path(tmp))
        try:
            results = {
                "old planner": plans(old_root, args.table),
                "rules only": plans(ROOT, args.table, "rules"),
                "current": plans(ROOT, args.table, str(args.oof) if args.oof else "default"),
            }
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old_root)],
                capture_output=True,
            )
    tally: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for name, planned in results.items():
        for row in rows:
            routed, entities = score(row, planned[row["id"]])
            for split in (row["split"], "all"):
                for cls in (row["class"], "ALL"):
                    cell = tally[(name, split, cls)]
                    cell[0] += routed
                    cell[1] += entities
                    cell[2] += 1
    classes = [*sorted({row["class"] for row in rows}), "ALL"]
    table = Table(title=f"Routing, {len(rows)} labelled turns (held-out / all): routed right")
    table.add_column("class")
    table.add_column("turns", justify="right")
    for name in results:
        table.add_column(f"{name} held-out", justify="right")
        table.add_column(f"{name} all", justify="right")

    def pct(cell: list[int]) -> str:
        return f"{100 * cell[0] / cell[2]:.0f}%" if cell[2] else "-"

    for cls in classes:
        cells = [pct(tally[(n, s, cls)]) for n in results for s in ("heldout", "all")]
        table.add_row(cls, str(tally[("current", "all", cls)][2]), *cells)
    console = Console()
    console.print(table)
    for name in results:
        held = tally[(name, "heldout", "ALL")]
        ms = sorted(p["ms"] for p in results[name].values())
        console.print(
            f"{name}: held-out routed right {held[0]}/{held[2]} ({100 * held[0] / held[2]:.1f}%), "
            f"entities right {held[1]}/{held[2]} ({100 * held[1] / held[2]:.1f}%); planning "
            f"p50 {ms[len(ms) // 2]:.2f} ms, max {ms[-1]:.2f} ms"
        )
    for split in ("train", "heldout"):
        turns = [(row, results["current"][row["id"]]) for row in rows if row["split"] == split]
        unsure = [(row, got) for row, got in turns if not got["confident"]]
        sure_right = sum(score(r, g)[0] for r, g in turns if g["confident"])
        console.print(
            f"current, {split}: {len(unsure)}/{len(turns)} turns marked unsure "
            f"({sum(score(r, g)[0] for r, g in unsure)} of them routed right); confident turns "
            f"routed right {sure_right}/{len(turns) - len(unsure)}"
        )
    if args.misses:
        for row in rows:
            got = results["current"][row["id"]]
            if row["split"] == args.misses and not score(row, got)[0]:
                sure = "" if got["confident"] else " (unsure)"
                console.print(f"- [{row['class']}]{sure} {row['text']!r}: want {row['tools']} "
                              f"{row['coins']} {row.get('window')} {row.get('horizon')}, got {got}")  # fmt: skip


if __name__ == "__main__":
    main()
