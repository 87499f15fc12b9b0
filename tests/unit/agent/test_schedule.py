"""The schedule and the worker's rules, without services: cron settings, each entry's last and
next run, the retry policy, the progress throttle, and what a forecast says while its model is
being trained."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from agent.errors import InvalidRequestError, NotFoundError
from agent.operations_settings import SCHEDULE_DEFAULTS
from agent.services.forecast import being_trained
from agent.services.jobs import JobQueue
from agent.services.schedule import entries, schedule_view
from agent.services.worker import _retry_strategy
from agent.services.worker_tasks import WorkerStopping, throttled
from agent.settings import Settings, SettingsError, load_settings


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_every_default_entry_is_scheduled_and_off_removes_one() -> None:
    names = [e.name for e in entries(_settings())]
    assert len(names) == len(SCHEDULE_DEFAULTS) == len(set(names))
    assert "news" not in [e.name for e in entries(_settings(schedule_news="off"))]
    daily, hourly = entries(_settings())[:2]
    assert (daily.task, daily.kwargs, hourly.kwargs) == (
        "market_refresh",
        {"interval": "1d"},
        {"interval": "1h"},
    )


def test_a_bad_cron_is_refused_at_start_up_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="SCHEDULE_DRIFT"):
        load_settings(_env_file=None, schedule_drift="every day")
    assert _settings(schedule_news="  */5   * * * *  ").schedule_news == "*/5 * * * *"
    assert _settings(schedule_news="None").schedule_news == "off"


def test_the_watchlist_reads_commas_and_none() -> None:
    assert _settings(watchlist="btc-usd, ETH-USD").watchlist == ["btc-usd", "ETH-USD"]
    assert _settings(watchlist="none").watchlist == []


def test_the_view_gives_each_entry_its_last_run_and_the_next_one() -> None:
    now = datetime(2026, 1, 5, 0, 4, 0, tzinfo=UTC).timestamp()
    daily_runs = {"last_run": now - 600, "last_status": "failed", "last_success": now - 3600}

    def last(task: str, args: dict[str, Any]) -> dict[str, Any]:
        return daily_runs if (task, args.get("interval")) == ("market_refresh", "1d") else {}

    view = {e["name"]: e for e in schedule_view(_settings(), last, now=now)}
    daily = view["market_daily"]
    assert daily["next_run"] == "2026-01-05T00:05:00+00:00"  # 5 0 * * *, a minute later
    assert daily["last_status"] == "failed" and daily["seconds_since_success"] == 3600.0
    assert view["market_hourly"]["last_run"] is None  # its own runs, not the daily ones
    assert view["news"]["next_run"] == "2026-01-05T00:15:00+00:00"
    assert view["news"]["last_run"] is None and view["news"]["seconds_since_success"] is None
    seconds = schedule_view(_settings(schedule_news="* * * * * */10"), last, now=now + 3)
    assert {e["name"]: e for e in seconds}["news"]["next_run"] == "2026-01-05T00:04:10+00:00"


def _job(attempts: int) -> Any:
    return SimpleNamespace(attempts=attempts)


def test_transient_failures_are_retried_with_growing_waits_and_bad_requests_never() -> None:
    policy = _retry_strategy(3)  # three runs: the first and two retries
    first = policy.get_retry_decision(exception=TimeoutError("slow"), job=_job(0))
    second = policy.get_retry_decision(exception=OSError("reset"), job=_job(1))
    assert first.retry_at is not None and second.retry_at > first.retry_at
    assert policy.get_retry_decision(exception=OSError(), job=_job(2)) is None  # third run failed
    assert _retry_strategy(1).get_retry_decision(exception=OSError(), job=_job(0)) is None
    for error in (InvalidRequestError("no provider"), NotFoundError("no data")):
        assert policy.get_retry_decision(exception=error, job=_job(0)) is None
    # a worker shutting down gives a training back at once, whatever its runs so far
    back = policy.get_retry_decision(exception=WorkerStopping("stop"), job=_job(9))
    assert back is not None and back.retry_at is not None


def test_a_stalled_timeout_shorter_than_two_heartbeats_is_refused() -> None:
    with pytest.raises(SettingsError, match="twice WORKER_HEARTBEAT_SECONDS"):
        load_settings(_env_file=None, worker_heartbeat_seconds=30, worker_stalled_after_seconds=40)


def test_progress_is_written_at_most_once_a_second_but_the_last_step_always() -> None:
    writes: list[tuple[Any, ...]] = []
    store = SimpleNamespace(progress=lambda *args: writes.append(args))
    note = throttled(store, 7, every=60)
    for done in range(1, 11):
        note("fold", done, 10)
    assert writes == [(7, "fold", 1, 10), (7, "fold", 10, 10)]


def test_a_forecast_while_training_says_since_when_and_the_stage() -> None:
    started = datetime(2026, 1, 5, 9, 30, tzinfo=UTC).timestamp()
    running = SimpleNamespace(
        status="running",
        started_at=started,
        created_at=started - 5,
        progress={"stage": "ETH-USD: final fit on all 900 bars"},
    )
    text = being_trained("ETH-USD", running, now=started + 600)
    assert "being trained: started 2026-01-05 09:30 UTC (10 min ago)" in text
    assert "final fit on all 900 bars" in text
    queued = SimpleNamespace(status="queued", started_at=None, created_at=started, progress=None)
    assert "queued for training since 2026-01-05 09:30 UTC" in being_trained("ETH-USD", queued)


@pytest.mark.parametrize("text", ["abc", "0", "-3", "99999999999999999999999", ""])
def test_a_job_id_that_cannot_exist_is_not_found_without_a_query(text: str) -> None:
    queue = JobQueue(SimpleNamespace())  # type: ignore[arg-type]
    with pytest.raises(NotFoundError, match="No job"):
        queue.get(text)
