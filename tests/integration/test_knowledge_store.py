"""Knowledge store on real Postgres + pgvector: idempotent ingest, hybrid search with filters,
re-embedding on a change of model, model cards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from agent.core import Services
from agent.errors import UnknownSymbolError
from agent.services.knowledge import KnowledgeService
from knowledge.embeddings import Embedder
from knowledge.models.registry import ModelRegistry
from tests.unit.knowledge_store.fakes import HashingEmbedder

pytestmark = pytest.mark.integration

RSI = """---
title: RSI notes
kind: guide
symbols: []
---
# RSI notes

## Reading

An RSI below 30 is called oversold and above 70 overbought.
"""
PAPER = """Electronic Cash Paper
=====================

Transactions
------------

The payee cannot verify that an earlier owner did not double-spend the coin. The only way to
confirm the absence of a transaction is to be aware of all transactions, so transactions are
publicly announced and nodes agree on a single history of the order they were received.

Incentive
---------

The first transaction in a block creates a new coin owned by the block's creator.
"""


@pytest.fixture(scope="module")
def real_embedder() -> Embedder:
    return Embedder()


@pytest.fixture
def fake() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def knowledge(
    services: Services, fake: HashingEmbedder, tmp_path: Path
) -> Iterator[KnowledgeService]:
    yield KnowledgeService(services.db, fake, registry=ModelRegistry(services.db),
                           corpus_dir=tmp_path / "corpus")  # fmt: skip


def _chunks(service: KnowledgeService) -> list[tuple[int, str, str, str | None]]:
    with service.store.db.connection() as conn:
        return conn.execute(
            "SELECT c.id, d.source, c.text, c.embedding_model FROM chunks c "
            "JOIN documents d ON d.id = c.document_id ORDER BY c.id"
        ).fetchall()


def test_ingest_is_idempotent_by_hash_replaces_changed_and_prunes(
    knowledge: KnowledgeService, fake: HashingEmbedder, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "rsi.md").write_text(RSI)
    (folder / "paper.md").write_text(PAPER)
    first = knowledge.ingest([folder])
    assert sorted(r.status for r in first) == ["added", "added"]
    before = _chunks(knowledge)
    calls = fake.calls

    again = knowledge.ingest([folder])
    assert [r.status for r in again] == ["unchanged", "unchanged"]
    assert fake.calls == calls  # nothing embedded
    assert _chunks(knowledge) == before  # nothing written

    (folder / "rsi.md").write_text(RSI.replace("below 30", "under 25"))
    changed = {r.source.rsplit("/", 1)[-1]: r.status for r in knowledge.ingest([folder])}
    assert changed == {"rsi.md": "updated", "paper.md": "unchanged"}
    after = _chunks(knowledge)
    old_rsi = {row[0] for row in before if row[1].endswith("rsi.md")}
    new_rsi = [row for row in after if row[1].endswith("rsi.md")]
    assert new_rsi and not old_rsi & {row[0] for row in new_rsi}  # chunks replaced
    assert all("under 25" in row[2] for row in new_rsi)

    (folder / "paper.md").unlink()
    kept = knowledge.ingest([folder])  # without --prune the document stays
    assert [r.status for r in kept] == ["unchanged"]
    assert any(row[1].endswith("paper.md") for row in _chunks(knowledge))
    pruned = knowledge.ingest([folder], prune=True)
    assert [(r.source.rsplit("/", 1)[-1], r.status) for r in pruned] == [
        ("rsi.md", "unchanged"), ("paper.md", "removed")]  # fmt: skip
    assert not any(row[1].endswith("paper.md") for row in _chunks(knowledge))


def test_ensure_corpus_uses_stable_sources_and_is_cheap_when_unchanged(
    knowledge: KnowledgeService, fake: HashingEmbedder
) -> None:
    corpus = knowledge.corpus_dir
    (corpus / "coins").mkdir(parents=True)
    (corpus / "coins" / "btc.md").write_text(
        "---\ntitle: Bitcoin\nkind: coin\nsymbols: [BTC]\n---\n## Supply\n\n21 million.\n"
    )
    assert [(r.source, r.status) for r in knowledge.ensure_corpus()] == [
        ("corpus/coins/btc.md", "added")
    ]
    calls = fake.calls
    assert [r.status for r in knowledge.ensure_corpus()] == ["unchanged"]
    assert fake.calls == calls
    (corpus / "coins" / "btc.md").unlink()
    assert [r.status for r in knowledge.ensure_corpus()] == ["removed"]


def test_hybrid_search_with_kind_symbol_and_as_of_filters(
    services: Services, real_embedder: Embedder, tmp_path: Path
) -> None:
    knowledge = KnowledgeService(services.db, real_embedder)
    (tmp_path / "paper.md").write_text(PAPER)
    (tmp_path / "rsi.md").write_text(RSI)
    knowledge.ingest([tmp_path])
    news = [
        {"title": f"Solana validators upgrade, part {i}", "text": f"Solana staking news item {i}.",
         "url": f"https://news.test/sol/{i}", "published_at": datetime(2024, 1 + i % 12, 1, tzinfo=UTC),
         "symbols": ["SOL"]}
        for i in range(24)
    ] + [{"title": "Bitcoin ETF flows", "text": "Bitcoin funds saw inflows.",
          "url": "https://news.test/btc", "published_at": datetime(2024, 2, 1, tzinfo=UTC)}]  # fmt: skip
    assert {r.status for r in knowledge.index_news(news)} == {"added"}
    assert {r.status for r in knowledge.index_news(news)} == {"unchanged"}

    found = knowledge.search("how does the network handle double spending?", k=3)
    assert found["query"] == "how does the network handle double spending?"
    assert found["hits"][0]["section"] == "Transactions"
    assert set(found["hits"][0]) >= {"doc_id", "title", "source", "section", "score", "text"}

    sol = knowledge.search("validators", k=10, kind="news", symbol="solana")["hits"]
    assert len(sol) == 10  # a filtered query still returns k rows
    assert all(h["kind"] == "news" and "SOL-USD" in h["symbols"] for h in sol)

    early = knowledge.search("solana staking news", k=20, symbol="SOL", as_of=date(2024, 3, 31))[
        "hits"
    ]
    assert early and all(h["published_at"] <= "2024-03-31T23:59:59.999999+00:00" for h in early)
    assert len(early) == 6  # items with i % 12 in 0..2 are dated January to March 2024
    assert knowledge.search("RSI oversold", k=5, kind="guide", as_of=date(2000, 1, 1))["hits"]

    btc = knowledge.search("fund inflows", k=5, symbol="BTC-USD", kind="news")["hits"]
    assert [h["title"] for h in btc] == ["Bitcoin ETF flows"]
    with pytest.raises(UnknownSymbolError):
        knowledge.search("x", symbol="NOPE")
    vector_only = knowledge.search("double spending", k=2, mode="vector")["hits"]
    text_only = knowledge.search("double spending", k=2, mode="fulltext")["hits"]
    assert vector_only and text_only[0]["section"] == "Transactions"


def test_a_change_of_model_re_embeds_everything(services: Services, tmp_path: Path) -> None:
    (tmp_path / "paper.md").write_text(PAPER)
    (tmp_path / "rsi.md").write_text(RSI)
    old = KnowledgeService(services.db, HashingEmbedder("hash-a", 32))
    old.ingest([tmp_path])
    assert old.stats()["embedding_model"] == "hash-a" and old.stats()["dimension"] == 32

    new_model = HashingEmbedder("hash-b", 48)
    new = KnowledgeService(services.db, new_model)
    assert new.ensure_embedding_space() is True
    with services.db.connection() as conn:
        rows = conn.execute(
            "SELECT DISTINCT embedding_model, vector_dims(embedding) FROM chunks"
        ).fetchall()
        typmod = conn.execute("SELECT atttypmod FROM pg_attribute WHERE attrelid = 'chunks'::regclass "
                              "AND attname = 'embedding'").fetchone()  # fmt: skip
        index = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'chunks_embedding_hnsw'"
        ).fetchone()
    assert rows == [("hash-b", 48)] and typmod == (48,)
    assert index and "hnsw" in index[0] and "vector_cosine_ops" in index[0]
    stats = new.stats()
    assert stats["embedded_chunks"] == stats["chunks"] > 0
    assert new.ensure_embedding_space() is False  # unchanged now: nothing to do
    assert new.search("double spend", k=1, mode="vector")["hits"]
    unchanged = new.ingest([tmp_path])  # the documents themselves are unchanged
    assert {r.status for r in unchanged} == {"unchanged"}


def test_model_cards_follow_the_registry(knowledge: KnowledgeService, services: Services) -> None:
    registry = ModelRegistry(services.db)
    metrics = {"1": {"horizon": 1, "n": 30, "mape": 2.0, "mae": 100.0, "naive_mae": 95.0,
                     "naive_mape": 1.9, "skill": -0.0526, "directional_accuracy": 0.5, "coverage": 0.8}}  # fmt: skip
    common: dict[str, Any] = {"train_start": date(2020, 1, 1), "train_end": date(2024, 12, 31), "hyperparams": {},
              "data_fingerprint": "f", "eval_window": {"start": "2024-07-01", "end": "2024-12-31"},
              "baseline": {"1": {"name": "naive", "mae": 95.0, "mape": 1.9}}, "artifact_path": "a"}  # fmt: skip
    first = registry.register("ETH-USD", metrics=metrics, **common)
    registry.promote("ETH-USD", first.version)
    assert [r.status for r in knowledge.refresh_model_cards()] == ["added"]
    assert [r.status for r in knowledge.refresh_model_cards()] == ["unchanged"]
    hits = knowledge.search("ETH forecast model naive", k=3, kind="model_card", symbol="eth")[
        "hits"
    ]
    assert hits and hits[0]["title"] == "Forecast model card: Ethereum (ETH-USD)"
    assert any("does NOT beat the naive forecast" in h["text"] for h in hits)

    better = {"1": metrics["1"] | {"mae": 90.0, "skill": 0.0526}}
    second = registry.register("ETH-USD", metrics=better, **common)
    registry.promote("ETH-USD", second.version)
    assert [r.status for r in knowledge.refresh_model_cards()] == ["updated"]
    text = " ".join(
        h["text"] for h in knowledge.search("model card", k=5, kind="model_card")["hits"]
    )
    assert "version 2" in text and "beats the naive forecast" in text
