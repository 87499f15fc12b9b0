"""The transformers backend on a tiny BERT built here: real loading, pipeline and label maps."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.unit.sentiment.samples import tiny_classifier
from tools.sentiment.base import AnalyzerUnavailableError
from tools.sentiment.transformer import (
    TransformersAnalyzer,
    locally_available,
    parse_label_map,
    resolve_label_map,
)

FINBERT = {0: "positive", 1: "negative", 2: "neutral"}
CRYPTOBERT = {0: "Bearish", 1: "Neutral", 2: "Bullish"}
GENERIC = {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}


def test_finbert_style_labels(tmp_path: Path) -> None:
    folder = tiny_classifier(tmp_path / "finbert", FINBERT, winner=0)
    analyzer = TransformersAnalyzer(str(folder), batch_size=4)
    scores = analyzer.analyze(["bitcoin to the moon", "the crash", "x"] * 3)
    assert len(scores) == 9
    assert {s.label for s in scores} == {"bullish"}
    assert scores[0].confidence == pytest.approx(0.909, abs=0.01)  # softmax(3, 0, 0)
    assert scores[0].score == pytest.approx(0.909 - 0.045, abs=0.01)
    assert analyzer.name == f"transformers:{folder}"


def test_cryptobert_style_labels(tmp_path: Path) -> None:
    folder = tiny_classifier(tmp_path / "cryptobert", CRYPTOBERT, winner=0)
    (score,) = TransformersAnalyzer(str(folder)).analyze(["bitcoin crash"])
    assert score.label == "bearish" and score.score < -0.8


def test_generic_labels_need_a_map(tmp_path: Path) -> None:
    folder = tiny_classifier(tmp_path / "generic", GENERIC, winner=2)
    with pytest.raises(AnalyzerUnavailableError, match="LABEL_0=bearish"):
        TransformersAnalyzer(str(folder)).analyze(["bitcoin"])
    mapping = parse_label_map("LABEL_0=bearish, LABEL_1=neutral, 2=bullish")
    (score,) = TransformersAnalyzer(str(folder), label_map=mapping).analyze(["bitcoin"])
    assert score.label == "bullish"


def test_long_texts_are_truncated(tmp_path: Path) -> None:
    folder = tiny_classifier(tmp_path / "short", FINBERT, winner=1, max_positions=32)
    (score,) = TransformersAnalyzer(str(folder), max_length=32).analyze(["bitcoin " * 2000])
    assert score.label == "bearish"


def test_loaded_once(tmp_path: Path) -> None:
    analyzer = TransformersAnalyzer(str(tiny_classifier(tmp_path / "m", FINBERT, winner=2)))
    analyzer.load()
    pipeline = analyzer._pipeline
    analyzer.analyze(["the"])
    assert analyzer._pipeline is pipeline


def test_a_model_not_in_the_cache_fails_fast_and_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    started = time.monotonic()
    assert not locally_available("ProsusAI/finbert")
    with pytest.raises(AnalyzerUnavailableError, match="not available locally"):
        TransformersAnalyzer("ProsusAI/finbert").analyze(["bitcoin"])
    assert time.monotonic() - started < 5


def test_a_broken_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "config.json").write_text("{not json")
    with pytest.raises(AnalyzerUnavailableError, match="could not be loaded"):
        TransformersAnalyzer(str(folder)).load()


def test_label_map_rules() -> None:
    assert resolve_label_map(FINBERT) == {
        "positive": "bullish",
        "negative": "bearish",
        "neutral": "neutral",
    }
    with pytest.raises(AnalyzerUnavailableError, match="both a bearish and a bullish"):
        resolve_label_map({0: "neutral", 1: "positive"})
    with pytest.raises(ValueError):
        parse_label_map("LABEL_0=up")
    assert parse_label_map("  ") is None
