"""Full-text candidate selection: rare words select, common words only rank."""

from __future__ import annotations

import time
from typing import Any

from knowledge.documents.fulltext import TermStats


class _Conn:
    """Answers the lexeme query with fixed lexemes (the only query made while stats are cached)."""

    def __init__(self, lexemes: list[str]) -> None:
        self.lexemes = lexemes

    def execute(self, sql: str, params: Any = None) -> Any:
        assert "to_tsvector" in sql
        return self

    def fetchone(self) -> tuple[list[str]]:
        return (self.lexemes,)


def _stats(counts: dict[str, float], max_rows: int = 3000) -> TermStats:
    stats = TermStats(max_rows=max_rows)
    stats._freqs, stats._loaded_at = counts, time.monotonic()
    return stats


def test_small_stores_use_a_plain_or() -> None:
    query = _stats({}).query(_Conn(["coin", "mean", "oversold"]), "q")  # type: ignore[arg-type]
    assert query is not None
    assert query.match == query.rank == "'coin' | 'mean' | 'oversold'"


def test_common_words_rank_but_do_not_select() -> None:
    counts = {"coin": 38_000.0, "mean": 20_000.0, "oversold": 900.0}
    query = _stats(counts).query(_Conn(["coin", "mean", "oversold", "rsi"]), "q")  # type: ignore[arg-type]
    assert query is not None
    assert query.match == "'rsi' | 'oversold'"
    assert query.rank == "'coin' | 'mean' | 'oversold' | 'rsi'"


def test_when_every_word_is_common_all_are_required() -> None:
    counts = {"coin": 38_000.0, "mean": 20_000.0}
    query = _stats(counts).query(_Conn(["coin", "mean"]), "q")  # type: ignore[arg-type]
    assert query is not None and query.match == "'coin' & 'mean'"


def test_quotes_are_escaped_and_empty_questions_give_nothing() -> None:
    query = _stats({}).query(_Conn(["o'neil"]), "q")  # type: ignore[arg-type]
    assert query is not None and query.match == "'o''neil'"
    assert _stats({}).query(_Conn([]), "the of") is None  # type: ignore[arg-type]
