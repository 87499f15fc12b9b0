"""Coin tags, news documents, model cards and rank fusion."""

from __future__ import annotations

from datetime import UTC, date, datetime

from knowledge.documents.model_cards import card_markdown, model_card_documents
from knowledge.documents.news import news_document, news_documents
from knowledge.documents.retrieval import rrf_fuse
from knowledge.documents.tagging import mentions, normalise_symbols, tag_symbols
from knowledge.models.registry import ModelVersion


def test_longer_names_win_and_common_words_are_not_coins() -> None:
    counts = mentions(
        "Bitcoin Cash split from Bitcoin. A link to the docs, a dot. Ethereum Classic."
    )
    assert counts == {"BCH-USD": 1, "BTC-USD": 1, "ETC-USD": 1}
    assert mentions("LINK and $dot and Chainlink") == {"LINK-USD": 2, "DOT-USD": 1}


def test_tagging_needs_the_title_or_two_mentions() -> None:
    assert tag_symbols("Solana outage", "The network stopped.") == ("SOL-USD",)
    assert tag_symbols("Markets", "Cardano once. Dogecoin twice, DOGE.") == ("DOGE-USD",)
    assert normalise_symbols(["btc", "Bitcoin", "nope", "UNI"]) == ("BTC-USD", "UNI7083-USD")


def test_news_documents_merge_given_and_found_coins() -> None:
    doc = news_document(
        {"title": "XRP jumps after ruling", "text": "Ripple's XRP rose.", "url": "https://n/1",
         "published_at": "2023-07-13T15:00:00Z", "symbols": ["BTC"]}
    )  # fmt: skip
    assert doc.kind == "news" and doc.source == "https://n/1"
    assert doc.symbols == ("BTC-USD", "XRP-USD")
    assert doc.published_at == datetime(2023, 7, 13, 15, tzinfo=UTC)
    same = news_document({"title": "XRP jumps after ruling", "text": "Ripple's XRP rose.",
                          "url": "https://n/1", "published_at": "2023-07-13T15:00:00Z",
                          "symbols": ["BTC"]})  # fmt: skip
    assert same.content_hash == doc.content_hash
    twice = news_documents(
        [{"title": "a", "text": "x", "url": "u"}, {"title": "b", "text": "y", "url": "u"}]
    )
    assert [d.title for d in twice] == ["b"]


def _version(version: int, skill: float, status: str) -> ModelVersion:
    metrics = {"1": {"horizon": 1, "n": 180, "mape": 2.1, "mae": 900.0, "naive_mae": 880.0,
                     "naive_mape": 2.0, "skill": skill, "directional_accuracy": 0.51,
                     "coverage": 0.79}}  # fmt: skip
    return ModelVersion(
        symbol="BTC-USD", version=version, created_at=datetime(2025, 1, version, tzinfo=UTC),
        train_start=date(2015, 1, 1), train_end=date(2024, 12, 31), hyperparams={},
        data_fingerprint="f", eval_window={"start": "2024-07-01", "end": "2024-12-31",
        "refit_every": 30, "window": "expanding"}, metrics=metrics,
        baseline={"1": {"name": "naive", "mae": 880.0, "mape": 2.0}}, artifact_path="a",
        status=status, notes="",
    )  # fmt: skip


def test_model_cards_say_plainly_when_naive_is_not_beaten() -> None:
    title, body, shown = card_markdown("BTC-USD", [_version(1, -0.023, "champion")])
    assert title == "Forecast model card: Bitcoin (BTC-USD)" and shown.version == 1
    assert "does NOT beat the naive forecast" in body and "MAE 900 against naive MAE 880" in body
    (doc,) = model_card_documents([_version(1, -0.023, "archived"), _version(2, 0.04, "champion")])
    assert doc.kind == "model_card" and doc.symbols == ("BTC-USD",)
    assert "version 2" in doc.body and "beats the naive forecast" in doc.body


def test_reciprocal_rank_fusion() -> None:
    fused = rrf_fuse([[1, 2, 3], [3, 1, 4]], k=60)
    assert [item for item, _ in fused] == [1, 3, 2, 4]
    assert abs(fused[0][1] - (1 / 61 + 1 / 62)) < 1e-12
