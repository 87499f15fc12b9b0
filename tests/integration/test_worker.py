"""The system running itself, with a worker in the test process: a fresh start loads, trains,
fetches and scores with nobody typing a command; the schedule keeps the data as fresh as its
period; the schedule and the jobs are visible in /system-status, /admin/jobs and /metrics."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agent.core import Services
from agent.operations_settings import SCHEDULE_DEFAULTS
from agent.settings import Settings
from api.main import create_app
from knowledge.market.yahoo import YFinanceProvider
from tests.fakes.feed_server import FeedServer
from tests.fakes.yahoo_server import FakeYahoo
from tests.helpers import running_worker, until
from tests.unit.sentiment.samples import Story, rss
from tools.forecast import ForecastConfig

TINY = ForecastConfig(window=10, units=(8,), epochs=2, patience=1, horizon=30, batch_size=32)
ADMIN = {"X-API-Key": "admin-key"}


def _provider(yahoo: FakeYahoo) -> YFinanceProvider:
    return YFinanceProvider(session=yahoo.session(), retries=0, sleep=lambda s: None)


@pytest.mark.timeout(300)
def test_a_fresh_start_loads_trains_fetches_and_scores_without_any_command(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """An empty database, a provider, two feeds' worth of news and a watchlist: the worker's
    start-up alone brings the bars, a champion per watchlist coin, stored and scored news; a
    chat forecast then answers from the new model."""
    coins = {"BTC-USD": 30_000.0, "ETH-USD": 2_000.0}
    with FakeYahoo(coins, daily_bars=260) as yahoo, FeedServer(tmp_path / "feeds") as feeds:
        when = datetime.now(UTC) - timedelta(hours=3)
        (feeds.root / "n.xml").write_text(
            rss(
                [
                    Story("Bitcoin rallies to a record high", "https://n.test/1", when),
                    Story("Ethereum slumps as fees fall", "https://n.test/2", when),
                ]
            )
        )
        settings = make_settings(
            admin_api_key="admin-key",
            watchlist=list(coins),
            news_feeds=[feeds.url("/n.xml")],
            news_subreddits=[],
            news_host_delay_seconds=0.0,
            forecast_eval_days=30,
            schedule_news=SCHEDULE_DEFAULTS["schedule_news"],  # automatic news, as by default
        )
        services = Services.build(settings, provider=_provider(yahoo))
        services.training.config = TINY
        try:
            with (
                TestClient(create_app(settings, services, load_data=False)) as client,
                running_worker(services, start_up=True),
            ):
                for coin in coins:
                    until(
                        lambda c=coin: services.training.registry.champion(c), 240, f"{coin} model"
                    )
                assert services.prices.last_timestamp("BTC-USD", "1d") is not None
                stored = services.sentiment.store.count()
                assert stored == 2
                assert until(lambda: not services.sentiment.store.unscored(), 60, "scoring")

                def all_done() -> list[dict[str, Any]] | None:
                    jobs = client.get("/admin/jobs", headers=ADMIN).json()["jobs"]
                    finished = all(j["status"] in ("succeeded", "failed") for j in jobs)
                    return jobs if finished else None

                jobs = until(all_done, 60, "every job finishing")
                trained = {j["params"]["symbol"] for j in jobs if j["kind"] == "train_model"}
                assert trained == set(coins)
                assert all(
                    j["params"]["reason"] == "first run" for j in jobs if "reason" in j["params"]
                )
                assert {j["kind"] for j in jobs} >= {"market_refresh", "news_refresh", "bootstrap"}
                assert all(j["status"] == "succeeded" for j in jobs), jobs

                chat = client.post("/chat", json={"message": "forecast eth for the next 3 days"})
                body = chat.json()
                (call,) = body["tools_used"]
                assert call["ok"] and call["args"]["symbol"] == "ETH-USD"
                assert "Forecast for ETH-USD** (model v1" in body["answer"]
        finally:
            services.db.close()


@pytest.mark.timeout(120)
def test_a_running_server_keeps_its_data_as_fresh_as_the_refresh_period(
    make_settings: Callable[..., Settings],
) -> None:
    """Daily bars refreshed every 3 s: sampled for 15 s, the last successful refresh in
    /system-status is never older than the period plus the refresh's own time."""
    period = 3.0
    with FakeYahoo({"BTC-USD": 30_000.0}, daily_bars=120) as yahoo:
        settings = make_settings(schedule_market_daily="* * * * * */3")
        services = Services.build(settings, provider=_provider(yahoo))
        try:
            with (
                TestClient(create_app(settings, services, load_data=False)) as client,
                running_worker(services),
            ):

                def refreshed() -> datetime | None:
                    for series in client.get("/system-status").json()["data"]:
                        if (series["symbol"], series["interval"]) == ("BTC-USD", "1d"):
                            stamp = series["refreshed_at"]
                            return datetime.fromisoformat(stamp) if stamp else None
                    return None

                until(refreshed, 20, "the first scheduled refresh")
                ages = []
                end = time.monotonic() + 15
                while time.monotonic() < end:
                    last = refreshed()
                    assert last is not None
                    ages.append((datetime.now(UTC) - last).total_seconds())
                    time.sleep(0.3)
                assert max(ages) < period + 2.0, max(ages)
                refreshes = client.get(
                    "/admin/jobs", params={"kind": "market_refresh", "limit": 100}, headers={}
                )
                assert refreshes.status_code in (401, 403)  # the job list is admin only
        finally:
            services.db.close()


def test_the_schedule_jobs_and_metrics_are_visible(make_settings: Callable[..., Settings]) -> None:
    """/system-status lists every enabled schedule entry with its next run and, after a run, its
    last; /metrics has jobs by state, durations, and seconds since each scheduled success."""
    settings = make_settings(admin_api_key="admin-key", schedule_bootstrap="* * * * * */2")
    services = Services.build(settings)
    try:
        with (
            TestClient(create_app(settings, services, load_data=False)) as client,
            running_worker(services),
        ):

            def ran() -> dict[str, Any] | None:
                jobs = client.get("/system-status").json()["jobs"]
                entry = {e["name"]: e for e in jobs["schedule"]}["bootstrap"]
                return jobs if entry["last_status"] == "succeeded" else None

            jobs = until(ran, 20, "a scheduled bootstrap")
            assert [e["name"] for e in jobs["schedule"]] == ["bootstrap"]  # the rest are off
            entry = jobs["schedule"][0]
            assert entry["cron"] == "* * * * * */2" and entry["next_run"] > entry["last_run"]
            assert jobs["workers"] == 2 and jobs["counts"]["succeeded"] >= 1  # two lanes
            text = client.get("/metrics").text
            assert 'background_jobs{status="succeeded"}' in text
            assert 'job_duration_seconds_count{outcome="succeeded",task="bootstrap"}' in text
            assert 'scheduled_task_seconds_since_success{schedule="bootstrap"' in text
            assert "alerts" not in client.get("/system-status").json()  # the admin's only
            assert client.get("/system-status", headers=ADMIN).json()["alerts"] == []
            listed = client.get("/admin/jobs", params={"kind": "bootstrap"}, headers=ADMIN)
            assert listed.status_code == 200 and listed.json()["jobs"][0]["kind"] == "bootstrap"
    finally:
        services.db.close()


@pytest.mark.timeout(180)
def test_the_first_run_trains_the_sentiment_head_from_the_configured_labelled_set(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """With SENTIMENT_TRAIN_CSV and no head yet, the first-run check queues the head's training;
    a worker trains it; the next check finds the head and queues nothing."""
    from tools.sentiment.embedding_head import latest_head

    rows = ["text,label"]
    for i in range(20):
        rows += [
            f"Shares surge {i} after strong results,bullish",
            f"Stock plunges {i} on weak guidance,bearish",
            f"Company schedules meeting {i} for Tuesday,neutral",
        ]
    labelled = tmp_path / "labelled.csv"
    labelled.write_text("\n".join(rows) + "\n")
    services = Services.build(make_settings(sentiment_train_csv=labelled))
    try:
        assert latest_head(services.settings.resolved_model_dir) is None
        first = services.jobs.defer("bootstrap", unique="bootstrap")
        with running_worker(services):
            done = until(
                lambda: (j := services.jobs.get(first.id)).status == "succeeded" and j, 30, "check"
            )
            assert set(done.result["queued"]) == {"sentiment"}
            trained = services.jobs.get(done.result["queued"]["sentiment"])
            trained = until(
                lambda: (j := services.jobs.get(trained.id)).status == "succeeded" and j,
                120,
                "the head's training",
            )
            assert 0 < trained.result["macro_f1"] <= 1 and trained.queue == "heavy"
            assert latest_head(services.settings.resolved_model_dir) is not None
            second = services.jobs.defer("bootstrap", unique="bootstrap")
            again = until(
                lambda: (j := services.jobs.get(second.id)).status == "succeeded" and j, 30, "check"
            )
            assert again.result["queued"] == {}
    finally:
        services.db.close()


def test_an_empty_watchlist_trains_nothing_and_refreshes_no_hourly_bars(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """WATCHLIST=none means no first-run training, never "every coin": BTC has bars and no
    model, and the first-run check queues nothing; the hourly refresh has nothing to fetch."""
    from knowledge.market.csv_files import import_file
    from tests.factories import synthetic_bars, write_csv

    with FakeYahoo({"BTC-USD": 30_000.0}, daily_bars=60) as yahoo:
        services = Services.build(make_settings(watchlist="none"), provider=_provider(yahoo))
        try:
            import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", synthetic_bars(80)))
            check = services.jobs.defer("bootstrap")
            hourly = services.jobs.defer("market_refresh", {"interval": "1h"})
            with running_worker(services):
                for job in (check, hourly):
                    until(lambda j=job: services.jobs.get(j.id).status == "succeeded", 30, "run")
            assert services.jobs.get(check.id).result == {"queued": {}}
            assert services.jobs.get(hourly.id).result == []
            assert services.jobs.training("BTC-USD") is None and not yahoo.history_requests()
        finally:
            services.db.close()


@pytest.mark.timeout(120)
def test_the_scheduled_backup_keeps_the_newest_backup_keep_dumps(
    make_settings: Callable[..., Settings],
) -> None:
    """Three scheduled backups with BACKUP_KEEP=2: each is a complete dump, the oldest is
    removed, and the job says which."""
    services = Services.build(make_settings(backup_keep=2))
    try:
        folder = services.settings.data_home / "backups"
        results = []
        with running_worker(services):
            for _ in range(3):
                job = services.jobs.defer("backup")
                done = until(
                    lambda j=job: (
                        (r := services.jobs.get(j.id)).status != "queued"
                        and r.status != "running"
                        and r
                    ),
                    60,
                    "a backup",
                )
                assert done.status == "succeeded", done
                results.append(done.result)
                time.sleep(1.1)  # dump names carry the second
        (folder / "crypto-assistant-by-hand.dump").write_bytes(b"made with db backup")
        kept = sorted(p.name for p in folder.glob("*.dump") if p.name.startswith("scheduled-"))
        assert kept == sorted(r["path"] for r in results[1:])
        assert results[2]["removed"] == [results[0]["path"]]
        assert all(r["bytes"] > 0 for r in results)
        assert (folder / "crypto-assistant-by-hand.dump").exists()
    finally:
        services.db.close()
