"""The shipped corpus: enough documents, valid front matter, every indicator and coin covered."""

from __future__ import annotations

from knowledge.documents import CORPUS_DIR, KINDS
from knowledge.documents.chunking import ChunkingConfig, chunk_markdown
from knowledge.documents.parsing import parse_file
from knowledge.market.symbols import CATALOGUE

INDICATOR_TITLES = ("RSI", "MACD", "Bollinger", "Simple Moving", "Exponential Moving",
                    "Stochastic", "Williams", "CCI", "ADX", "ATR", "OBV", "MFI", "ROC",
                    "Parabolic SAR", "Candlestick")  # fmt: skip
CONCEPTS = ("Volatility", "Drawdown", "Halving", "Stablecoins", "Decentralised Finance",
            "Exchanges and Custody", "On-chain", "Position Sizing", "Risk Management")  # fmt: skip


def _docs() -> list:  # type: ignore[type-arg]
    files = sorted(CORPUS_DIR.rglob("*.md"))
    return [parse_file(p, source=p.name, origin="corpus", default_kind="guide") for p in files]


def test_at_least_forty_documents_with_front_matter() -> None:
    files = sorted(CORPUS_DIR.rglob("*.md"))
    assert len(files) >= 40
    for path in files:
        text = path.read_text()
        assert text.startswith("---\n"), path
        head = text.split("---\n")[1]
        assert all(f"{key}:" in head for key in ("title", "kind", "symbols")), path


def test_every_indicator_concept_and_coin_has_a_document() -> None:
    docs = _docs()
    titles = " | ".join(d.title for d in docs)
    assert all(name in titles for name in INDICATOR_TITLES)
    assert all(name in titles for name in CONCEPTS)
    coin_docs = {s for d in docs if d.kind == "coin" for s in d.symbols}
    assert coin_docs == {coin.symbol for coin in CATALOGUE}
    assert {d.kind for d in docs} <= set(KINDS)


def test_documents_chunk_into_titled_sections() -> None:
    for doc in _docs():
        chunks = chunk_markdown(doc.body, doc.title, ChunkingConfig())
        assert len(chunks) >= 3, doc.title
        assert all(c.section for c in chunks), doc.title  # every passage sits under a heading


def test_no_prices_are_quoted() -> None:
    for path in CORPUS_DIR.rglob("*.md"):
        text = path.read_text().lower()
        assert "price is $" not in text and "trades at $" not in text, path
