"""The schedule: which task runs when (cron, UTC, from settings), and for every replica the last
and next run of each, read from the queue's tables."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agent.operations_settings import SCHEDULE_DEFAULTS


@dataclass(frozen=True)
class Entry:
    """One periodic task: its schedule name, the task it defers, the arguments, the cron."""

    name: str
    task: str
    cron: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    what: str = ""


def entries(settings: Any, *, provider: bool = True) -> list[Entry]:
    """The enabled schedule entries (a cron of `off` disables one; without a market-data
    provider there is nothing to refresh)."""
    table = [
        Entry(
            "market_daily",
            "market_refresh",
            settings.schedule_market_daily,
            {"interval": "1d"},
            "daily bars after the UTC close",
        ),
        Entry(
            "market_hourly",
            "market_refresh",
            settings.schedule_market_hourly,
            {"interval": "1h"},
            "hourly bars of the watchlist",
        ),
        Entry("news", "news_refresh", settings.schedule_news, {}, "news feeds, stored and scored"),
        Entry(
            "drift",
            "drift_check",
            settings.schedule_drift,
            {},
            "drift check; retraining when flagged",
        ),
        Entry(
            "bootstrap",
            "bootstrap",
            settings.schedule_bootstrap,
            {},
            "watchlist coins without a champion get trained",
        ),
        Entry("alerts", "alerts_check", settings.schedule_alerts, {}, "alert conditions"),
        Entry("backup", "backup", settings.schedule_backup, {}, "database backup with retention"),
        Entry(
            "cleanup",
            "cleanup_jobs",
            settings.schedule_cleanup,
            {},
            "finished jobs past JOB_RETENTION_DAYS removed",
        ),
    ]
    assert len(table) == len(SCHEDULE_DEFAULTS)
    return [e for e in table if e.cron != "off" and (provider or e.task != "market_refresh")]


def _next_run(cron: str, now: float) -> float:
    from croniter import croniter

    return float(croniter(cron, datetime.fromtimestamp(now, UTC)).get_next(float))


def _iso(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")


def schedule_view(
    settings: Any,
    last_runs: Callable[[str, dict[str, Any]], dict[str, Any]],
    now: float | None = None,
    *,
    provider: bool = True,
) -> list[dict[str, Any]]:
    """Each entry with its cron, what it does, its last run and success (of its task with its
    arguments, `last_runs(task, kwargs)`), and its next run."""
    now = time.time() if now is None else now
    out = []
    for entry in entries(settings, provider=provider):
        runs = last_runs(entry.task, entry.kwargs)
        success = runs.get("last_success")
        out.append(
            {
                "name": entry.name,
                "task": entry.task,
                "cron": entry.cron,
                "what": entry.what,
                "last_run": _iso(runs.get("last_run")),
                "last_status": runs.get("last_status"),
                "last_success": _iso(success),
                "seconds_since_success": round(now - success, 1) if success else None,
                "next_run": _iso(_next_run(entry.cron, now)),
            }
        )
    return out
