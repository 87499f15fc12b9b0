"""On real Postgres: a head trained while the service runs scores the next refresh's items under
its own name, the items scored before keep the old head's name, and a broken newer head is
skipped; the service is never rebuilt. `sentiment train` says when it is picked up, `sentiment
status` names the head in use and when it was trained."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.core import Services
from agent.services.sentiment import SentimentConfig, SentimentService
from agent.services.sentiment_models import HEAD_RELOAD_SECONDS
from cli.sentiment import sentiment_app
from knowledge.news import NewsStore
from tests.fakes.feed_server import FeedServer
from tests.helpers import runner
from tests.unit.sentiment.samples import KeywordEmbedder, Story, dataset, rss
from tools.sentiment.embedding_head import HEAD_DIR, train_head

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FeedServer]:
    with FeedServer(tmp_path / "feeds") as running:
        yield running


def publish(server: FeedServer, *titles: str) -> None:
    stories = [
        Story(t, f"https://n.test/{i}", NOW - timedelta(hours=i + 1)) for i, t in enumerate(titles)
    ]
    (server.root / "a.xml").write_text(rss(stories))


def models(store: NewsStore) -> dict[str, str | None]:
    items = store.items("BTC-USD", NOW - timedelta(days=2), NOW + timedelta(days=1))
    return {i.title: i.model for i in items}


async def test_refresh_after_training_names_the_new_head(
    services: Services, server: FeedServer, tmp_path: Path
) -> None:
    head = train_head(dataset(10), KeywordEmbedder(), seed=1)
    models_dir = tmp_path / "models"
    head.save(models_dir)
    config = SentimentConfig(
        backend="auto",
        model="no-such-org/no-such-model",
        model_dir=models_dir,
        feeds=(server.url("/a.xml"),),
        subreddits=(),
        timeout_seconds=2.0,
        host_delay_seconds=0.0,
    )
    store = NewsStore(services.db)
    service = SentimentService(
        store,
        config,
        embedder=KeywordEmbedder(),  # type: ignore[arg-type]
        reload_seconds=0.0,
    )

    publish(server, "Bitcoin surge to a new high")
    first = await service.refresh_news()
    assert first["scored"] == 1 and first["model"] == "embedding-head:v1"

    head.save(models_dir)  # head B, while the service is running
    publish(server, "Bitcoin surge to a new high", "Bitcoin crash after exchange hack")
    second = await service.refresh_news()
    assert second["new_items"] == 1 and second["model"] == "embedding-head:v2"
    assert models(store) == {
        "Bitcoin surge to a new high": "embedding-head:v1",
        "Bitcoin crash after exchange hack": "embedding-head:v2",
    }

    broken = models_dir / HEAD_DIR / "v3"
    broken.mkdir()
    (broken / "weights.json").write_text("{")
    (broken / "metadata.json").write_text("{}")
    publish(
        server,
        "Bitcoin surge to a new high",
        "Bitcoin crash after exchange hack",
        "Bitcoin rally report",
    )
    third = await service.refresh_news()
    assert third["new_items"] == 1 and third["model"] == "embedding-head:v2"
    status = service.status()
    assert status["analyzer"] == "embedding-head:v2"
    assert status["head"]["trained_at"] == head.metadata["trained_at"]
    assert "v3" in status["reload"]["last_error"]


def test_train_says_when_it_is_picked_up_and_status_names_the_head(
    env: dict[str, str], tmp_path: Path
) -> None:
    rows = ["text,label"]
    for i in range(12):
        rows += [f"Shares surge {i},bullish", f"Stock plunges {i},bearish", f"Meeting {i},neutral"]
    csv_path = tmp_path / "labelled.csv"
    csv_path.write_text("\n".join(rows) + "\n")
    for _ in range(2):
        trained = runner.invoke(sentiment_app, ["train", str(csv_path)], env=env)
        assert trained.exit_code == 0, trained.output
    assert f"picks it up within {HEAD_RELOAD_SECONDS:g} seconds" in " ".join(trained.output.split())
    folder = tmp_path / "var" / "models" / HEAD_DIR / "v2"
    trained_at = json.loads((folder / "metadata.json").read_text())["trained_at"]
    status = runner.invoke(sentiment_app, ["status"], env=env)
    assert status.exit_code == 0, status.output
    shown = " ".join(status.output.split())
    assert "analyzer: embedding-head:v2" in shown and f"head v2, trained {trained_at}" in shown
