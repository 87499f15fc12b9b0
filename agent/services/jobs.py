"""The durable job queue every process shares: deferring work for the workers, and the jobs'
states, progress and outcomes, read from Postgres so any replica answers the same.

The engine is procrastinate (a Postgres-backed task queue): workers on any number of machines,
locks so one coin never trains twice at once, periodic tasks deferred once per period.
"""

from __future__ import annotations

import logging
from typing import Any

from agent.errors import NotFoundError
from knowledge.database import Database
from knowledge.queue import JobRecord, JobStore

log = logging.getLogger(__name__)
__all__ = ["HEAVY", "JobQueue", "JobRecord"]
#: the queue of CPU-heavy work (training); a worker runs it in a lane of its own, so refreshes
#: and scoring never wait behind a training
HEAVY = "heavy"


def _job_id(text: str | int) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise NotFoundError(f"No job {text}.") from None
    if not 0 < value < 2**63:
        raise NotFoundError(f"No job {text}.")
    return value


class JobQueue:
    """Defers tasks by name and reads jobs back; safe to share between threads."""

    def __init__(self, db: Database, *, stalled_after: float = 60.0) -> None:
        self.db = db
        self.stalled_after = stalled_after  # a running job's worker silent this long is dead
        self.store = JobStore(db)
        self._app: Any = None

    def _procrastinate(self) -> Any:
        """A procrastinate app on this process's pool, used only to defer (workers run jobs)."""
        if self._app is None:
            import procrastinate

            connector = procrastinate.SyncPsycopgConnector()
            connector.open(pool=self.db.pool)
            self._app = procrastinate.App(connector=connector)
        return self._app

    def defer(
        self,
        task: str,
        params: dict[str, Any] | None = None,
        *,
        lock: str | None = None,
        unique: str | None = None,
        priority: int = 0,
        queue: str = "default",
    ) -> JobRecord:
        """Queue `task(**params)` for a worker. `unique` is a queueing lock: while a job with
        the same one waits, that job is returned instead of a second one."""
        from procrastinate.exceptions import AlreadyEnqueued

        kwargs = dict(params or {})
        try:
            job_id = (
                self._procrastinate()
                .configure_task(
                    name=task, lock=lock, queueing_lock=unique, priority=priority, queue=queue
                )
                .defer(**kwargs)
            )
        except AlreadyEnqueued:
            waiting = self.store.waiting(unique) if unique else None
            if waiting is None:  # it started in between: try once more
                return self.defer(
                    task, params, lock=lock, unique=unique, priority=priority, queue=queue
                )
            return waiting
        record = self.store.get(job_id)
        assert record is not None
        return record

    def get(self, job_id: str | int) -> JobRecord:
        record = self.store.get(_job_id(job_id))
        if record is None:
            raise NotFoundError(f"No job {job_id}.")
        return record

    def list(
        self, *, limit: int = 50, status: str | None = None, kind: str | None = None
    ) -> list[JobRecord]:
        return self.store.recent(limit=limit, status=status, kind=kind)

    def retry(self, job_id: str | int) -> JobRecord:
        """Queue a failed job again (a running one whose worker died too)."""
        from agent.errors import JobStateError

        record = self.get(job_id)
        if not self.store.retry(int(record.id), self.stalled_after):
            raise JobStateError(
                f"Job {record.id} is {record.status}: only a failed job, or a running one whose "
                "worker has stopped answering, can be retried."
            )
        return self.get(record.id)

    def counts(self) -> dict[str, int]:
        return self.store.counts()

    def train(self, symbol: str, reason: str = "requested") -> JobRecord:
        """Queue a training of `symbol`: one per coin at a time (lock), at most one waiting."""
        return self.defer(
            "train_model",
            {"symbol": symbol, "reason": reason},
            lock=f"train:{symbol}",
            unique=f"train:{symbol}",
            queue=HEAVY,
        )

    def training(self, symbol: str) -> JobRecord | None:
        """The queued or running training of `symbol`, if any (for "being trained" answers)."""
        return self.store.active("train_model", symbol=symbol)

    def overview(self, settings: Any, *, provider: bool = True) -> dict[str, Any]:
        """For /system-status: jobs by state, live workers, and the schedule with each
        entry's last and next run."""
        from agent.services.schedule import schedule_view

        return {
            "counts": self.store.counts(),
            "workers": len(self.store.workers(self.stalled_after)),
            "schedule": schedule_view(settings, self.store.last_run, provider=provider),
        }

    def close(self) -> None:
        """Release the deferring app (the pool belongs to the caller)."""
        self._app = None
