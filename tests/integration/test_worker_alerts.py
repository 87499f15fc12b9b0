"""Alerts end to end through a worker: a scheduled task failing run after run raises one alert
in the Telegram admin chat however many checks run, and one "cleared" once it succeeds again;
and the queue from the command line (`jobs list | show | retry`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.core import Services
from agent.settings import Settings
from cli.main import app
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_server import FakeTelegram
from tests.helpers import runner, running_worker, until
from tests.unit.sentiment.samples import Story, rss

ADMIN_CHAT = -100777


@pytest.mark.timeout(180)
def test_a_task_failing_again_and_again_alerts_once_and_clears_once(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    with FakeTelegram() as telegram, FeedServer(tmp_path / "feeds") as feeds:
        feeds.configure("/n.xml", status=503)  # the only news source is down
        settings = make_settings(
            telegram_bot_token=telegram.token,
            telegram_api_base_url=telegram.base_url,
            telegram_poll_in_api=False,
            alert_telegram_chat_id=ADMIN_CHAT,
            alert_job_failures=2,
            job_max_attempts=1,
            news_feeds=[feeds.url("/n.xml")],
            news_subreddits=[],
            news_host_delay_seconds=0.0,
            schedule_news="* * * * * */2",
            schedule_alerts="* * * * * */1",
        )
        services = Services.build(settings)
        try:
            with running_worker(services):

                def alerts() -> list[str]:
                    return [t for t in telegram.sent_texts(ADMIN_CHAT)]

                failures = lambda: services.jobs.store.consecutive_failures().get("news_refresh", 0)  # noqa: E731
                until(lambda: failures() >= 4, 60, "four failed news refreshes")
                until(lambda: alerts(), 10, "an alert")
                time.sleep(3)  # more checks and failures: still one message
                (alert,) = alerts()
                assert "news_refresh" in alert
                feeds.configure("/n.xml", status=None)  # the source comes back
                when = datetime.now(UTC) - timedelta(hours=1)
                (feeds.root / "n.xml").write_text(rss([Story("Bitcoin up", "https://n.t/1", when)]))
                until(lambda: failures() == 0, 30, "a successful news refresh")
                until(lambda: len(alerts()) == 2, 10, "the cleared message")
                time.sleep(2)
            assert len(alerts()) == 2 and "clear" in alerts()[1].lower()
        finally:
            services.db.close()


@pytest.mark.timeout(120)
def test_jobs_list_show_and_retry_from_the_command_line(
    make_settings: Callable[..., Settings], env: dict[str, str]
) -> None:
    services = Services.build(make_settings())
    try:
        job = services.jobs.defer("market_refresh", {"interval": "1d"})  # no provider: fails
        with running_worker(services):
            until(lambda: services.jobs.get(job.id).status == "failed", 30, "the failure")
        wide = env | {"COLUMNS": "200"}
        listed = runner.invoke(app, ["jobs", "list", "--status", "failed"], env=wide)
        assert listed.exit_code == 0, listed.output
        assert f"│ {job.id}  │ market_refresh │ interval=1d │ failed" in listed.output
        assert "0 worker(s) alive; jobs by state: {'failed': 1}" in listed.output
        shown = runner.invoke(app, ["jobs", "show", job.id], env=env)
        assert shown.exit_code == 0
        body = json.loads(shown.output)
        assert body["status"] == "failed" and "provider" in body["error"]
        retried = runner.invoke(app, ["jobs", "retry", job.id], env=env)
        assert retried.exit_code == 0 and "queued again" in retried.output
        assert services.jobs.get(job.id).status == "queued"
        again = runner.invoke(app, ["jobs", "retry", job.id], env=env)
        assert again.exit_code == 1 and "only a failed job" in again.output
        missing = runner.invoke(app, ["jobs", "show", "424242"], env=env)
        assert missing.exit_code == 1 and "No job 424242" in missing.output
    finally:
        services.db.close()
