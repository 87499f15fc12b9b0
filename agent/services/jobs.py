"""Background jobs (market refreshes now, model training later): started, tracked, never in-request."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

log = logging.getLogger(__name__)
Status = Literal["queued", "running", "succeeded", "failed"]


@dataclass
class Job:
    """One background task and its outcome."""

    id: str
    kind: str
    params: dict[str, Any]
    status: Status = "queued"
    created_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    result: Any = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class JobRunner:
    """Runs coroutines as asyncio tasks, keeps the last jobs for status queries."""

    def __init__(self, keep: int = 200) -> None:
        self._jobs: dict[str, Job] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._keep = keep

    def submit(self, kind: str, params: dict[str, Any], work: Callable[[], Awaitable[Any]]) -> Job:
        """Start `work` in the background and return its job record at once."""
        job = Job(id=uuid.uuid4().hex, kind=kind, params=params)
        self._jobs[job.id] = job
        while len(self._jobs) > self._keep:
            self._jobs.pop(next(iter(self._jobs)))

        async def run() -> None:
            job.status = "running"
            try:
                job.result = await work()
                job.status = "succeeded"
            except Exception as exc:  # a failed job is recorded, never raised into the server
                log.exception("job %s (%s) failed", job.id, kind)
                job.status, job.error = "failed", str(exc) or type(exc).__name__
            finally:
                job.finished_at = time.time()

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def counts(self) -> dict[str, int]:
        """Jobs by status, for /system-status."""
        out: dict[str, int] = {}
        for job in self._jobs.values():
            out[job.status] = out.get(job.status, 0) + 1
        return out

    async def wait_all(self) -> None:
        """Let running jobs finish (shutdown, tests)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
