"""Sources shown to readers never reveal the server's file layout: files ingested from any
folder are named relative to the folder (or file) that was ingested, and rows stored under an
absolute path before are rewritten by the migration and hidden when shown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from agent.core import Services
from agent.services.knowledge import KnowledgeService
from agent.settings import Settings
from agent.toolkit import SEARCH_KNOWLEDGE, TABLE, bind
from knowledge.migrations import MIGRATIONS_DIR
from tests.unit.knowledge_store.fakes import HashingEmbedder

pytestmark = pytest.mark.integration
PAPER = (
    "---\ntitle: Whitepaper\nkind: guide\n---\n# Whitepaper\n\n## Proof\n\nProof of work chains.\n"
)


@pytest.fixture
def knowledge(make_settings: Callable[..., Settings]) -> KnowledgeService:
    services = Services.build(make_settings())
    return KnowledgeService(services.db, HashingEmbedder())


def _deep_file(tmp_path: Path) -> Path:
    folder = tmp_path / "srv" / "private" / "corpus"
    folder.mkdir(parents=True)
    path = folder / "bitcoin_whitepaper.md"
    path.write_text(PAPER)
    return path


async def test_search_and_chat_sources_are_relative_to_the_ingested_root(
    knowledge: KnowledgeService, services: Services, tmp_path: Path
) -> None:
    path = _deep_file(tmp_path)
    [by_file] = knowledge.ingest([path])  # a single file: named below its own folder
    [by_folder] = knowledge.ingest([tmp_path / "srv"])  # a folder: named below that folder
    assert by_file.source == "files/corpus/bitcoin_whitepaper.md"
    assert by_folder.source == "files/srv/private/corpus/bitcoin_whitepaper.md"
    hits = knowledge.search("proof of work", k=5)["hits"]
    tool = bind(TABLE[SEARCH_KNOWLEDGE], replace(services.engines(), knowledge=knowledge))
    tool_hits = (await tool.ainvoke({"query": "proof of work"}))["hits"]
    for hit in [*hits, *tool_hits]:
        assert str(tmp_path) not in hit["source"] and not hit["source"].startswith("/")


def test_prune_removes_only_files_gone_below_the_ingested_root(
    knowledge: KnowledgeService, tmp_path: Path
) -> None:
    path = _deep_file(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.md").write_text(PAPER.replace("Whitepaper", "Keep"))
    knowledge.ingest([path.parent])
    knowledge.ingest([other])
    path.unlink()
    pruned = knowledge.ingest([path.parent], prune=True)
    assert [(r.source, r.status) for r in pruned] == [
        ("files/corpus/bitcoin_whitepaper.md", "removed")
    ]
    assert {h["source"] for h in knowledge.search("proof", k=5)["hits"]} == {"files/other/keep.md"}


def test_absolute_sources_stored_before_are_rewritten_and_never_shown(
    knowledge: KnowledgeService, tmp_path: Path
) -> None:
    path = _deep_file(tmp_path)
    knowledge.ingest([path])
    with knowledge.store.db.connection() as conn:  # as an older release stored it
        conn.execute("UPDATE documents SET source = %s", (str(path),))
    assert (
        knowledge.search("proof", k=1)["hits"][0]["source"] == "files/corpus/bitcoin_whitepaper.md"
    )
    sql = (MIGRATIONS_DIR / "0006_relative_sources.sql").read_text()
    with knowledge.store.db.connection() as conn:
        conn.execute(sql)
        [(stored,)] = conn.execute("SELECT source FROM documents").fetchall()
    assert stored == "files/corpus/bitcoin_whitepaper.md"
