"""Retrain the planner's intent head from the project's labelled utterances.

    .venv/bin/python scripts/train_intents.py [--oof var/intent_oof.json]

Reads the routing benchmark's training split and `agent/offline/data/intent_train_extra.jsonl`
(never the held-out turns), writes `agent/offline/data/intent_head.json` and prints the
cross-validated exact-match rate per C. `--oof` also writes each training text's out-of-fold
scores, which `benchmarks/bench_routing.py --oof` uses to tune the planner on training turns.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.offline.classifier import HEAD_PATH  # noqa: E402
from agent.offline.intent_training import EXTRA_PATH, train_head, training_examples  # noqa: E402
from knowledge.embeddings import shared_embedder  # noqa: E402

TABLE = ROOT / "benchmarks" / "routing" / "utterances.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oof", type=Path, help="write out-of-fold scores of training texts")
    args = parser.parse_args()
    rows = [json.loads(line) for line in TABLE.read_text().splitlines() if line.strip()]
    examples = training_examples(rows, EXTRA_PATH)
    head, oof = train_head(examples, shared_embedder())
    HEAD_PATH.write_text(json.dumps(head.to_json(), separators=(",", ":")) + "\n")
    meta = head.metadata
    print(f"{meta['examples']} examples, C={meta['C']}, cv exact match {meta['cv_exact_match']}")
    print(f"labels: {meta['label_counts']}")
    if args.oof:
        args.oof.parent.mkdir(parents=True, exist_ok=True)
        args.oof.write_text(json.dumps({t: s.probabilities for t, s in oof.items()}))


if __name__ == "__main__":
    main()
