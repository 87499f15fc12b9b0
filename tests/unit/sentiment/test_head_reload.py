"""A head trained while the service runs replaces its analyzer without a rebuild: the check,
the atomic save, a broken head keeping the old analyzer, scores naming their model, threads."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import pytest

import tools.sentiment.embedding_head as embedding_head
from agent.services.sentiment import SentimentConfig, SentimentService
from agent.services.sentiment_models import AnalyzerHolder
from tests.unit.sentiment.samples import KeywordEmbedder, dataset
from tools.sentiment.embedding_head import HEAD_DIR, TrainedHead, latest_head, train_head
from tools.sentiment.select import AnalyzerOptions

MISSING = "no-such-org/no-such-model"
TEXTS = ["fresh rally", "exchange hack"]


@pytest.fixture(scope="module")
def head() -> TrainedHead:
    return train_head(dataset(10), KeywordEmbedder(), seed=1, source="test")


class FakeStore:
    """The two `NewsStore` calls scoring uses, over a dict id -> (text, model)."""

    def __init__(self) -> None:
        self.items: dict[int, tuple[str, str | None]] = {}

    def add(self, *texts: str) -> None:
        for text in texts:
            self.items[len(self.items) + 1] = (text, None)

    def unscored(self, limit: int) -> list[tuple[int, str]]:
        return [(i, t) for i, (t, m) in self.items.items() if m is None][:limit]

    def save_scores(self, rows: list[tuple[int, str, float, float]], model: str) -> int:
        for item_id, *_ in rows:
            self.items[item_id] = (self.items[item_id][0], model)
        return len(rows)


def service(model_dir: Path, store: Any = None, **extra: Any) -> SentimentService:
    config = SentimentConfig(backend="auto", model=MISSING, model_dir=model_dir)
    return SentimentService(
        store or FakeStore(),
        config,
        embedder=KeywordEmbedder(),  # type: ignore[arg-type]
        reload_seconds=extra.pop("reload_seconds", 0.0),
    )


async def model_of(svc: SentimentService) -> str:
    return str((await svc.score_texts(TEXTS))["model"])


async def test_a_newer_head_is_used_by_the_next_score(tmp_path: Path, head: TrainedHead) -> None:
    head.save(tmp_path)
    svc = service(tmp_path)
    assert await model_of(svc) == "embedding-head:v1"
    head.save(tmp_path)  # "head B", trained while the service runs
    assert await model_of(svc) == "embedding-head:v2"
    status = svc.status()
    assert status["analyzer"] == "embedding-head:v2" and status["head"]["version"] == 2
    assert status["head"]["trained_at"] == head.metadata["trained_at"]
    assert status["head"]["path"] == str(tmp_path / HEAD_DIR / "v2")
    assert status["reload"] == {"every_seconds": 0.0, "last_error": None, "watching": True}


async def test_the_lexicon_gives_way_to_a_first_head(tmp_path: Path, head: TrainedHead) -> None:
    svc = service(tmp_path)
    assert await model_of(svc) == "lexicon:vader-crypto-v1"
    assert any("sentiment train" in n for n in svc.status()["notes"])
    head.save(tmp_path)
    assert await model_of(svc) == "embedding-head:v1"
    notes = svc.status()["notes"]
    assert notes and not any("sentiment train" in n for n in notes)  # the transformer note stays


async def test_the_check_runs_at_most_once_per_interval(tmp_path: Path, head: TrainedHead) -> None:
    now = [0.0]
    options = AnalyzerOptions(transformer_model=MISSING, model_dir=tmp_path)
    holder = AnalyzerHolder(lambda: options, KeywordEmbedder, 10.0, clock=lambda: now[0])
    head.save(tmp_path)
    assert holder.current().analyzer.name == "embedding-head:v1"
    head.save(tmp_path)
    now[0] = 9.9
    assert holder.current().analyzer.name == "embedding-head:v1"
    now[0] = 10.0
    assert holder.current().analyzer.name == "embedding-head:v2"


async def test_a_broken_newer_head_keeps_the_old_one(
    tmp_path: Path, head: TrainedHead, caplog: pytest.LogCaptureFixture
) -> None:
    head.save(tmp_path)
    svc = service(tmp_path)
    assert await model_of(svc) == "embedding-head:v1"
    broken = tmp_path / HEAD_DIR / "v2"  # as a copy or a crash of an older writer leaves it
    broken.mkdir()
    (broken / "weights.json").write_text('{"classes": ["bullish"], "coef": [[0.1, 0.')
    (broken / "metadata.json").write_text(json.dumps(head.metadata))
    with caplog.at_level(logging.WARNING, "agent.services.sentiment_models"):
        assert await model_of(svc) == "embedding-head:v1"
        assert await model_of(svc) == "embedding-head:v1"
    warnings = [r for r in caplog.records if "not loaded" in r.getMessage()]
    assert len(warnings) == 1 and "unreadable" in warnings[0].getMessage()  # logged once
    assert "unreadable" in svc.status()["reload"]["last_error"]
    (broken / "weights.json").write_text(json.dumps({"classes": ["bullish"], "coef": [[1.0]]}))
    assert await model_of(svc) == "embedding-head:v1"  # malformed: still the old one
    head.save(tmp_path)  # v3, sound
    assert await model_of(svc) == "embedding-head:v3"
    assert svc.status()["reload"]["last_error"] is None


async def test_a_save_that_fails_midway_leaves_no_head(
    tmp_path: Path, head: TrainedHead, monkeypatch: pytest.MonkeyPatch
) -> None:
    head.save(tmp_path)
    svc = service(tmp_path)
    assert await model_of(svc) == "embedding-head:v1"
    real = embedding_head._write_synced

    def crash_on_metadata(path: Path, text: str) -> None:
        if path.name == "metadata.json":
            raise OSError("disk full")
        real(path, text)

    monkeypatch.setattr(embedding_head, "_write_synced", crash_on_metadata)
    with pytest.raises(OSError, match="disk full"):
        head.save(tmp_path)
    assert [p.name for p in (tmp_path / HEAD_DIR).iterdir()] == ["v1"]  # no vN, no staging
    assert await model_of(svc) == "embedding-head:v1"


def test_a_save_never_overwrites_a_version_taken_meanwhile(
    tmp_path: Path, head: TrainedHead, monkeypatch: pytest.MonkeyPatch
) -> None:
    head.save(tmp_path)
    real = embedding_head._versions
    monkeypatch.setattr(embedding_head, "_versions", lambda root: real(root)[:0])  # sees none
    folder = head.save(tmp_path)
    assert (
        folder.name == "v2" and json.loads((folder / "metadata.json").read_text())["version"] == 2
    )
    assert sorted(p.name for p in (tmp_path / HEAD_DIR).iterdir()) == ["v1", "v2"]


def test_scores_keep_the_model_that_made_them(tmp_path: Path, head: TrainedHead) -> None:
    head.save(tmp_path)
    store = FakeStore()
    svc = service(tmp_path, store)
    store.add("coin surge", "coin crash")
    assert svc._score_pending(None) == (2, "embedding-head:v1")
    head.save(tmp_path)
    store.add("coin meeting")
    assert svc._score_pending(None) == (1, "embedding-head:v2")
    models = [m for _, m in store.items.values()]
    assert models == ["embedding-head:v1", "embedding-head:v1", "embedding-head:v2"]


def test_scoring_threads_never_fail_while_heads_are_swapped(
    tmp_path: Path, head: TrainedHead
) -> None:
    head.save(tmp_path)
    svc = service(tmp_path)
    svc.selection()
    errors: list[BaseException] = []
    seen: set[str] = set()
    stop = threading.Event()

    def score() -> None:
        while not stop.is_set():
            try:
                name, scores = svc._analyze(TEXTS)
                assert len(scores) == 2 and scores[0].label == "bullish"
                seen.add(name)
            except BaseException as exc:  # any failure fails the test
                errors.append(exc)
                return

    threads = [threading.Thread(target=score) for _ in range(4)]
    for t in threads:
        t.start()
    for _ in range(5):
        head.save(tmp_path)
    final = latest_head(tmp_path)
    assert final is not None
    deadline = threading.Event()
    for _ in range(200):  # until a thread has scored with the newest head
        if f"embedding-head:{final.name}" in seen:
            break
        deadline.wait(0.01)
    stop.set()
    for t in threads:
        t.join(5)
    assert errors == []
    assert f"embedding-head:{final.name}" in seen
    assert seen <= {f"embedding-head:v{n}" for n in range(1, 7)}
