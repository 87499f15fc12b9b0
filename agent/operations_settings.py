"""The settings of the system running itself: the worker, the schedule, the watchlist, backups.

Mixed into the one `Settings` class (agent/settings.py), so they are read and validated with the
rest; each is in `.env.example` and the README's configuration table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import NoDecode

#: schedule entries: setting name -> default cron (UTC; a sixth field is seconds; "off" disables)
SCHEDULE_DEFAULTS = {
    "schedule_market_daily": "5 0 * * *",
    "schedule_market_hourly": "2 * * * *",
    "schedule_news": "*/15 * * * *",
    "schedule_drift": "30 0 * * *",
    "schedule_bootstrap": "20 * * * *",
    "schedule_alerts": "*/10 * * * *",
    "schedule_backup": "0 3 * * *",
    "schedule_cleanup": "45 3 * * *",
}


class OperationsSettings(BaseModel):
    """Worker, schedule and bootstrap configuration (fields of `Settings`)."""

    start_worker: bool = Field(
        default=True, description="`serve` starts a `crypto-assistant worker` process beside it"
    )
    worker_concurrency: int = Field(default=1, ge=1, le=32, description="jobs at once per worker")
    worker_heartbeat_seconds: float = Field(default=10.0, gt=0, le=300)
    worker_stalled_after_seconds: float = Field(
        default=60.0, gt=0, le=3600, description="a job whose worker is silent this long is retried"
    )
    job_max_attempts: int = Field(default=3, ge=1, le=20, description="runs of a failing job")
    job_retention_days: int = Field(default=14, ge=1, le=3650)
    watchlist: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["BTC-USD", "ETH-USD", "SOL-USD"],
        description="coins trained on first run when they have data and no champion "
        "(comma-separated; none = no first-run training)",
    )
    sentiment_train_csv: Path | None = Field(
        default=None, description="labelled text,label CSV the first run trains the head on"
    )
    backup_keep: int = Field(default=7, ge=1, le=1000, description="scheduled backups kept")
    schedule_market_daily: str = SCHEDULE_DEFAULTS["schedule_market_daily"]
    schedule_market_hourly: str = SCHEDULE_DEFAULTS["schedule_market_hourly"]
    schedule_news: str = SCHEDULE_DEFAULTS["schedule_news"]
    schedule_drift: str = SCHEDULE_DEFAULTS["schedule_drift"]
    schedule_bootstrap: str = SCHEDULE_DEFAULTS["schedule_bootstrap"]
    schedule_alerts: str = SCHEDULE_DEFAULTS["schedule_alerts"]
    schedule_backup: str = SCHEDULE_DEFAULTS["schedule_backup"]
    schedule_cleanup: str = SCHEDULE_DEFAULTS["schedule_cleanup"]

    @field_validator(*SCHEDULE_DEFAULTS)
    @classmethod
    def _cron(cls, value: str) -> str:
        from croniter import croniter

        text = " ".join(value.split())
        if text.lower() in ("off", "none", "-"):
            return "off"
        if not croniter.is_valid(text):
            raise ValueError(f"not a cron expression (or 'off'): {value!r}")
        return text

    @field_validator("watchlist", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().lower() in ("none", "off"):
                return []
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("sentiment_train_csv", mode="before")
    @classmethod
    def _empty_path(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _stalled_after_heartbeats(self) -> OperationsSettings:
        if self.worker_stalled_after_seconds < 2 * self.worker_heartbeat_seconds:
            raise ValueError(
                "WORKER_STALLED_AFTER_SECONDS must be at least twice WORKER_HEARTBEAT_SECONDS, "
                "or the jobs of live workers would be queued again"
            )
        return self
