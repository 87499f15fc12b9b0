"""`crypto-assistant sentiment train|score|show|trend|status` and `news refresh` end to end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.services.sentiment import SentimentConfig
from cli.sentiment import news_app, sentiment_app
from tests.fakes.feed_server import FeedServer
from tests.helpers import runner
from tests.unit.sentiment.samples import Story, rss

pytestmark = pytest.mark.integration


@pytest.fixture
def feeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedServer]:
    """Point the configured sources at a local server (settings may not define them yet)."""
    with FeedServer(tmp_path / "feeds") as server:
        when = datetime.now(UTC) - timedelta(hours=5)
        (server.root / "n.xml").write_text(
            rss([Story("Bitcoin rallies to a record high", "https://n.test/1", when)])
        )
        original = SentimentConfig.from_settings

        def local(settings: Any) -> SentimentConfig:
            config = original(settings)
            return SentimentConfig(
                **{
                    **config.__dict__,
                    "feeds": (server.url("/n.xml"),),
                    "subreddits": (),
                    "host_delay_seconds": 0.0,
                }
            )

        monkeypatch.setattr(SentimentConfig, "from_settings", staticmethod(local))
        yield server


def test_train_saves_a_versioned_head_with_its_evaluation(
    env: dict[str, str], tmp_path: Path
) -> None:
    rows = ["text,label"]
    for i in range(20):
        rows += [
            f"Shares surge {i} after strong results,bullish",
            f"Stock plunges {i} on weak guidance,0",
            f"Company schedules meeting {i} for Tuesday,neutral",
        ]
    csv_path = tmp_path / "labelled.csv"
    csv_path.write_text("\n".join(rows) + "\n")
    res = runner.invoke(sentiment_app, ["train", str(csv_path)], env=env)
    assert res.exit_code == 0, res.output
    assert "embedding-head v1: held-out accuracy" in res.output
    folder = tmp_path / "var" / "models" / "sentiment" / "embedding-head" / "v1"
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["embedder"] == "all-MiniLM-L6-v2" and meta["split"]["test_rows"] == 12
    assert meta["evaluation"]["macro_f1"] > 0.9 and meta["data_sha256"]

    status = runner.invoke(sentiment_app, ["status"], env=env)
    assert "analyzer: embedding-head:v1" in status.output, status.output
    scored = runner.invoke(sentiment_app, ["score", "Shares surge after strong results"], env=env)
    assert (
        scored.exit_code == 0
        and "bullish" in scored.output
        and "embedding-head:v1" in scored.output
    )


def test_bad_training_file_is_reported(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhello,sideways\n")
    res = runner.invoke(sentiment_app, ["train", str(bad)], env=env)
    assert res.exit_code == 1 and "line 2" in res.output


def test_news_refresh_then_show_and_trend(env: dict[str, str], feeds: FeedServer) -> None:
    res = runner.invoke(news_app, ["refresh"], env=env)
    assert res.exit_code == 0, res.output
    assert "1 new item(s), 1 scored by lexicon:vader-crypto-v1" in res.output
    again = runner.invoke(news_app, ["refresh"], env=env)
    assert "not_modified" in again.output and "0 new item(s)" in again.output
    shown = runner.invoke(sentiment_app, ["show", "btc"], env=env)
    text = " ".join(shown.output.split())
    assert shown.exit_code == 0 and "Bitcoin (BTC-USD)" in text
    assert "Bitcoin rallies to a record high" in text and "1 item(s)" in text
    trend = runner.invoke(sentiment_app, ["trend", "BTC-USD", "--days", "3"], env=env)
    assert trend.exit_code == 0 and "1 items" in trend.output
    none = runner.invoke(sentiment_app, ["show", "ada"], env=env)
    assert "no sentiment reading" in " ".join(none.output.split())
