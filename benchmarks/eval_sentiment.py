"""Evaluation: every sentiment analyzer against plain VADER and the majority class, on the
held-out part of a labelled file (twitter-financial-news-sentiment by default).

One stratified seeded split (20% held out, seed 42, the same as `sentiment train`). The embedding
head is trained on the other 80% only (its regularisation chosen by CV inside that part); the
lexicon and VADER have nothing to train. Every analyzer is scored on the same held-out rows in
the same run; lexicon and VADER are also shown on the whole file for reference.

    .venv/bin/python benchmarks/eval_sentiment.py [--csv PATH] [--test-size 0.2] [--seed 42]
        [--transformer-model ProsusAI/finbert] [--json reports/sentiment-eval.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from knowledge.embeddings import Embedder  # noqa: E402
from tools.sentiment.base import AnalyzerUnavailableError  # noqa: E402
from tools.sentiment.dataset import (  # noqa: E402
    classification_report,
    load_labelled_csv,
    stratified_split,
)
from tools.sentiment.embedding_head import train_head  # noqa: E402
from tools.sentiment.lexicon import LexiconAnalyzer, VaderAnalyzer  # noqa: E402
from tools.sentiment.transformer import TransformersAnalyzer, locally_available  # noqa: E402

DEFAULT_CSV = REPO.parent / "shared" / "data" / "sentiment" / "twitter_financial_news_train.csv"
GOAL_LEXICON_MARGIN = 0.10
GOAL_EMBEDDING_F1 = 0.65


def row(name: str, gold: Sequence[str], predicted: Sequence[str], seconds: float) -> dict[str, Any]:
    report = classification_report(gold, predicted)
    per: dict[str, dict[str, float]] = report["per_label"]  # type: ignore[assignment]
    return {
        "analyzer": name,
        "n": report["n"],
        "accuracy": report["accuracy"],
        "macro_f1": report["macro_f1"],
        "seconds": seconds,
        "f1": {k: v["f1"] for k, v in per.items()},
    }


def timed_labels(analyzer: Any, texts: list[str]) -> tuple[list[str], float]:
    started = time.perf_counter()
    labels = [s.label for s in analyzer.analyze(texts)]
    return labels, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--test-size", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--transformer-model", default="ProsusAI/finbert")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args()

    data = load_labelled_csv(args.csv)
    train_rows, test_rows = stratified_split(data.labels, args.test_size, args.seed)
    test = data.subset(test_rows)
    print(
        f"{args.csv.name}: {len(data.texts)} rows {data.counts()}; held out {len(test_rows)} "
        f"(stratified, seed {args.seed}), train {len(train_rows)}"
    )

    rows: list[dict[str, Any]] = []
    majority = Counter(data.labels[i] for i in train_rows).most_common(1)[0][0]
    rows.append(
        row(f"majority class ({majority})", test.labels, [majority] * len(test.labels), 0.0)
    )
    vader, lexicon = VaderAnalyzer(), LexiconAnalyzer()
    for analyzer in (vader, lexicon):
        labels, seconds = timed_labels(analyzer, test.texts)
        rows.append(row(analyzer.name, test.labels, labels, seconds))

    started = time.perf_counter()
    head = train_head(
        data,
        Embedder(),
        test_size=args.test_size,
        seed=args.seed,
        source=str(args.csv),
        on_stage=lambda s: print(f"  embedding head: {s}"),
    )
    evaluation = head.metadata["evaluation"]
    rows.append(
        {
            "analyzer": f"embedding head (C={head.metadata['hyperparameters']['C']:g})",
            "n": evaluation["n"],
            "accuracy": evaluation["accuracy"],
            "macro_f1": evaluation["macro_f1"],
            "seconds": time.perf_counter() - started,
            "f1": {k: v["f1"] for k, v in evaluation["per_label"].items()},
        }
    )

    skipped = []
    if locally_available(args.transformer_model):
        try:
            labels, seconds = timed_labels(TransformersAnalyzer(args.transformer_model), test.texts)
            rows.append(row(f"transformers:{args.transformer_model}", test.labels, labels, seconds))
        except AnalyzerUnavailableError as exc:
            skipped.append(f"transformers:{args.transformer_model}: {exc}")
    else:
        skipped.append(
            f"transformers:{args.transformer_model}: not available locally (offline; "
            "never downloaded at run time), so not evaluated"
        )

    reference = []
    for analyzer in (vader, lexicon):
        labels, seconds = timed_labels(analyzer, data.texts)
        reference.append(row(f"{analyzer.name} (whole file)", data.labels, labels, seconds))

    vader_f1 = rows[1]["macro_f1"]
    header = f"{'analyzer':<36} {'rows':>5} {'accuracy':>8} {'macro-F1':>8} {'vs VADER':>8}  F1 bear/neu/bull"
    print("\n" + header + "\n" + "-" * len(header))
    for r in rows + reference:
        f1 = r["f1"]
        print(
            f"{r['analyzer']:<36} {r['n']:>5} {r['accuracy']:>8.3f} {r['macro_f1']:>8.3f} "
            f"{r['macro_f1'] - vader_f1:>+8.3f}  {f1['bearish']:.2f}/{f1['neutral']:.2f}/{f1['bullish']:.2f}"
        )
    for note in skipped:
        print(f"(skipped) {note}")
    lexicon_margin = rows[2]["macro_f1"] - vader_f1
    print(
        f"\ngoal: lexicon macro-F1 >= VADER + {GOAL_LEXICON_MARGIN:.2f}: {lexicon_margin:+.3f} "
        f"-> {'met' if lexicon_margin >= GOAL_LEXICON_MARGIN else 'NOT met'}"
    )
    head_f1 = rows[3]["macro_f1"]
    print(
        f"goal: embedding head macro-F1 >= {GOAL_EMBEDDING_F1}: {head_f1:.3f} "
        f"-> {'met' if head_f1 >= GOAL_EMBEDDING_F1 else 'NOT met'}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"held_out": rows, "whole_file": reference, "skipped": skipped}, indent=2)
        )


if __name__ == "__main__":
    main()
