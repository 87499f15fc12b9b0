"""Backend selection: transformers if local, then a trained head, else the lexicon."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.sentiment.samples import KeywordEmbedder, dataset, tiny_classifier
from tools.sentiment.base import AnalyzerUnavailableError
from tools.sentiment.embedding_head import EmbeddingHeadAnalyzer, train_head
from tools.sentiment.lexicon import LexiconAnalyzer
from tools.sentiment.select import AnalyzerOptions, select_analyzer
from tools.sentiment.transformer import TransformersAnalyzer

MISSING = "no-such-org/no-such-model"


def test_nothing_available_means_the_lexicon(tmp_path: Path) -> None:
    chosen = select_analyzer(AnalyzerOptions(transformer_model=MISSING, model_dir=tmp_path))
    assert isinstance(chosen.analyzer, LexiconAnalyzer)
    assert any("not available locally" in n for n in chosen.notes)
    assert any("sentiment train" in n for n in chosen.notes)


def test_a_trained_head_comes_before_the_lexicon(tmp_path: Path) -> None:
    train_head(dataset(10), KeywordEmbedder(), seed=1).save(tmp_path)
    options = AnalyzerOptions(transformer_model=MISSING, model_dir=tmp_path)
    chosen = select_analyzer(options, KeywordEmbedder)
    assert isinstance(chosen.analyzer, EmbeddingHeadAnalyzer)
    assert chosen.analyzer.name == "embedding-head:v1"


def test_a_local_transformer_comes_first(tmp_path: Path) -> None:
    train_head(dataset(10), KeywordEmbedder(), seed=1).save(tmp_path)
    folder = tiny_classifier(tmp_path / "tiny", {0: "negative", 1: "neutral", 2: "positive"}, 2)
    chosen = select_analyzer(
        AnalyzerOptions(transformer_model=str(folder), model_dir=tmp_path), KeywordEmbedder
    )
    assert isinstance(chosen.analyzer, TransformersAnalyzer) and chosen.notes == []


def test_auto_skips_a_broken_transformer_with_a_note(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    chosen = select_analyzer(AnalyzerOptions(transformer_model=str(folder), model_dir=tmp_path))
    assert isinstance(chosen.analyzer, LexiconAnalyzer)
    assert "could not be loaded" in chosen.notes[0]


def test_a_named_backend_that_cannot_load_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(AnalyzerUnavailableError, match="not available locally"):
        select_analyzer(AnalyzerOptions(backend="transformers", transformer_model=MISSING))
    with pytest.raises(AnalyzerUnavailableError, match="no trained embedding head"):
        select_analyzer(AnalyzerOptions(backend="embedding", model_dir=tmp_path))
    lexicon = select_analyzer(AnalyzerOptions(backend="lexicon", transformer_model=MISSING))
    assert isinstance(lexicon.analyzer, LexiconAnalyzer)
