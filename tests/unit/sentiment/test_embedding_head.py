"""Labelled data, the split, metrics, and the embedding head's train/save/load cycle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.errors import DataValidationError
from tests.unit.sentiment.samples import KeywordEmbedder, dataset
from tools.sentiment.base import AnalyzerUnavailableError
from tools.sentiment.dataset import (
    classification_report,
    load_labelled_csv,
    stratified_split,
)
from tools.sentiment.embedding_head import EmbeddingHeadAnalyzer, latest_head, train_head


def test_csv_labels_words_and_numeric_codes(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_text(
        'text,label\n"BTC up, big",Bullish\nETH down,0\nSOL flat,2\nADA,1\nX,negative\n'
    )
    data = load_labelled_csv(path)
    assert data.labels == ["bullish", "bearish", "neutral", "bullish", "bearish"]
    assert data.texts[0] == "BTC up, big"


def test_csv_bad_rows_are_reported_by_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("text,label\nok,bullish\n,neutral\nfine,sideways\n")
    with pytest.raises(DataValidationError) as caught:
        load_labelled_csv(path)
    assert caught.value.problems == [
        (3, "empty text"),
        (4, "unknown label 'sideways' (use bearish, neutral, bullish)"),
    ]


def test_split_is_stratified_seeded_and_disjoint() -> None:
    labels = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    train, test = stratified_split(labels, 0.2, seed=7)
    assert stratified_split(labels, 0.2, seed=7) == (train, test)
    assert set(train).isdisjoint(test) and len(train) + len(test) == 100
    assert [sum(labels[i] == k for i in test) for k in "abc"] == [10, 6, 4]


def test_classification_report() -> None:
    report = classification_report(
        ["bullish", "bearish", "neutral", "neutral"], ["bullish", "neutral", "neutral", "neutral"]
    )
    assert report["accuracy"] == 0.75
    assert report["macro_f1"] == pytest.approx((1 + 0 + 0.8) / 3)
    assert report["confusion"]["bearish"]["neutral"] == 1  # type: ignore[index]


def test_train_save_load_and_versions(tmp_path: Path) -> None:
    embedder = KeywordEmbedder()
    head = train_head(dataset(), embedder, test_size=0.2, seed=3, source="mem")
    evaluation = head.metadata["evaluation"]
    assert head.metadata["split"]["test_rows"] == 18 and evaluation["n"] == 18
    assert evaluation["macro_f1"] > 0.9
    first, second = head.save(tmp_path), head.save(tmp_path)
    assert (first.name, second.name) == ("v1", "v2") and latest_head(tmp_path) == second
    saved = json.loads((second / "metadata.json").read_text())
    assert saved["version"] == 2 and saved["embedder"] == embedder.model_name
    analyzer = EmbeddingHeadAnalyzer(second, embedder)
    assert analyzer.name == "embedding-head:v2"
    bull, bear = analyzer.analyze(["fresh rally", "exchange hack"])
    assert bull.label == "bullish" and bear.label == "bearish" and bull.score > 0 > bear.score


def test_a_head_refuses_another_embedder_or_broken_files(tmp_path: Path) -> None:
    folder = train_head(dataset(10), KeywordEmbedder(), seed=1).save(tmp_path)
    other = KeywordEmbedder()
    other.model_name = "another-model"
    with pytest.raises(AnalyzerUnavailableError, match="retrain"):
        EmbeddingHeadAnalyzer(folder, other)
    (folder / "weights.json").write_text("{")
    with pytest.raises(AnalyzerUnavailableError, match="unreadable"):
        EmbeddingHeadAnalyzer(folder, KeywordEmbedder())
    assert latest_head(tmp_path / "nothing") is None
