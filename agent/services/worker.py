"""A worker process: the queue's tasks and schedule registered on procrastinate, run with the
worker's own services. `crypto-assistant worker` runs one; `serve` starts one beside the API;
compose and Kubernetes scale them. Periodic tasks are deferred once per period however many
workers run; a job whose worker died (no heartbeat) is queued again by `retry_stalled`."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from collections.abc import Callable
from typing import Any

from agent.services import worker_tasks as tasks
from agent.services.jobs import HEAVY, JobQueue
from agent.services.schedule import entries
from agent.services.worker_tasks import Runtime

log = logging.getLogger(__name__)

#: task name -> body; every one runs in a worker, never in the API process
BODIES: dict[str, Callable[..., Any]] = {
    "market_refresh": tasks.market_refresh,
    "news_refresh": tasks.news_refresh,
    "score_ledger": tasks.score_ledger,
    "train_model": tasks.train_model,
    "train_sentiment": tasks.train_sentiment,
    "drift_check": tasks.drift_check,
    "bootstrap": tasks.bootstrap,
    "alerts_check": tasks.alerts_check,
    "backup": tasks.backup,
    "ping": tasks.ping,
}


def _job_task(name: str, body: Callable[..., Any]) -> Callable[..., Any]:
    """The procrastinate task around a body: runs it off the loop, records result or error."""

    async def run(context: Any, **kwargs: Any) -> Any:
        kwargs.pop("timestamp", None)  # periodic deferrals pass their period's timestamp
        runtime: Runtime = context.additional_context["runtime"]
        job_id = int(context.job.id)
        store = runtime.queue.store
        try:
            if inspect.iscoroutinefunction(body):
                result = await body(runtime, job_id, **kwargs)
            else:
                result = await asyncio.to_thread(body, runtime, job_id, **kwargs)
        except Exception as exc:
            log.warning("job %s (%s) failed: %s", job_id, name, exc)
            await asyncio.to_thread(store.outcome, job_id, error=f"{type(exc).__name__}: {exc}")
            raise
        await asyncio.to_thread(store.outcome, job_id, result=result)
        return None

    run.__name__ = run.__qualname__ = name
    return run


async def _retry_stalled(context: Any, timestamp: int | None = None) -> None:
    """Jobs left running by a worker that stopped sending heartbeats are queued again."""
    runtime: Runtime = context.additional_context["runtime"]
    manager = context.app.job_manager
    after = runtime.settings.worker_stalled_after_seconds
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=after):
        log.warning("job %s (%s) lost its worker: queued again", job.id, job.task_name)
        await manager.retry_job(job)


def _retry_strategy() -> Any:
    from procrastinate import RetryStrategy

    from agent.errors import ConflictError, MissingError, RequestError

    class TransientOnly(RetryStrategy):
        """Retries (4 s, 16 s, ...) up to JOB_MAX_ATTEMPTS runs, except for errors a retry
        cannot fix: a bad request, something missing, a conflicting state."""

        def get_retry_decision(self, *, exception: BaseException, job: Any) -> Any:
            if isinstance(exception, (RequestError, MissingError, ConflictError)):
                return None
            return super().get_retry_decision(exception=exception, job=job)

    return TransientOnly


def build_app(dsn: str, settings: Any) -> Any:
    """The worker's procrastinate app: every task, the retry policy and the schedule."""
    import procrastinate
    from procrastinate import builtin_tasks

    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=dsn, min_size=1, max_size=4)
    )
    retry = _retry_strategy()(max_attempts=settings.job_max_attempts, exponential_wait=4)
    for name, body in BODIES.items():
        app.task(name=name, pass_context=True, retry=retry)(_job_task(name, body))
    app.task(name="retry_stalled", pass_context=True)(_retry_stalled)

    async def cleanup_jobs(context: Any, timestamp: int | None = None) -> None:
        """Finished jobs (and their events) older than JOB_RETENTION_DAYS are removed."""
        await builtin_tasks.remove_old_jobs(
            context,
            max_hours=settings.job_retention_days * 24,
            remove_failed=True,
            remove_cancelled=True,
            remove_aborted=True,
        )

    app.task(name="cleanup_jobs", pass_context=True)(cleanup_jobs)
    for entry in entries(settings):
        app.periodic_registry.register_task(
            task=app.tasks[entry.task],
            cron=entry.cron,
            periodic_id=entry.name,
            configure_kwargs={"task_kwargs": dict(entry.kwargs)},
        )
    return app


async def run_worker(
    services: Any,
    *,
    stop: asyncio.Event | None = None,
    install_signal_handlers: bool = True,
    start_up: bool = True,
) -> None:
    """Run jobs until SIGTERM/SIGINT (or `stop` is set): first the start-up work (bars, news,
    first-run training), then whatever the queue and the schedule bring."""
    settings = services.settings
    queue = JobQueue(services.db)
    app = build_app(services.dsn, settings)
    runtime = Runtime(services=services, queue=queue)
    if start_up:
        await asyncio.to_thread(_start_up, services, queue)
    async with app.open_async():
        lanes = [
            asyncio.create_task(
                app.run_worker_async(
                    queues=queues,
                    name=f"{name}-{os.getpid()}",
                    concurrency=concurrency,
                    additional_context={"runtime": runtime},
                    install_signal_handlers=install_signal_handlers and stop is None and index == 0,
                    update_heartbeat_interval=settings.worker_heartbeat_seconds,
                    stalled_worker_timeout=settings.worker_stalled_after_seconds,
                    fetch_job_polling_interval=2.0,
                )
            )
            for index, (name, queues, concurrency) in enumerate(_lanes(settings))
            if concurrency
        ]
        waiter = asyncio.create_task(stop.wait() if stop else _forever())
        await asyncio.wait({*lanes, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        for lane in lanes:  # SIGTERM stopped one lane: stop the other as gracefully
            if not lane.done():
                lane.cancel()  # procrastinate stops gracefully: running jobs finish first
        await asyncio.gather(*lanes, return_exceptions=True)


def _lanes(settings: Any) -> list[tuple[str, list[str], int]]:
    """Two lanes per worker: training (WORKER_CONCURRENCY at once) and everything else
    (refreshes, scoring, checks: two at once), so no refresh waits behind a training."""
    return [
        ("heavy", [HEAVY], settings.worker_concurrency),
        ("light", ["default"], 2),
    ]


async def _forever() -> None:
    await asyncio.Event().wait()


def _start_up(services: Any, queue: JobQueue) -> None:
    """What a fresh start needs without anybody asking: each queued once however many workers
    start together (queueing locks)."""
    if services.market.provider is not None:
        queue.defer("market_refresh", {"interval": "1d"}, unique="startup:market_1d")
    if services.settings.schedule_news != "off":  # automatic news is what the schedule says
        queue.defer("news_refresh", unique="startup:news")
    queue.defer("bootstrap", unique="bootstrap")
