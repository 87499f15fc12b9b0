"""A worker process: the queue's tasks and schedule registered on procrastinate, run with the
worker's own services. `crypto-assistant worker` runs one; `serve` starts one beside the API;
compose and Kubernetes scale them. Periodic tasks are deferred once per period however many
workers run; a job whose worker died (no heartbeat) is queued again by the others' watch."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import signal
from collections.abc import Callable
from typing import Any

from agent.services import worker_tasks as tasks
from agent.services.jobs import HEAVY, JobQueue
from agent.services.schedule import entries
from agent.services.worker_tasks import Runtime, WorkerStopping

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


def _retry_strategy(runs: int) -> Any:
    """The retry policy of every task: `runs` runs in all (procrastinate's `attempts` counts
    the runs before the current one)."""
    from procrastinate import RetryStrategy
    from procrastinate.retry import RetryDecision

    from agent.errors import ConflictError, MissingError, RequestError

    class TransientOnly(RetryStrategy):
        """Retries (4 s, 16 s, ...) up to JOB_MAX_ATTEMPTS runs, except for errors a retry
        cannot fix: a bad request, something missing, a conflicting state."""

        def get_retry_decision(self, *, exception: BaseException, job: Any) -> Any:
            if isinstance(exception, WorkerStopping):  # its worker stops: another one goes on
                return RetryDecision(retry_in={"seconds": 0})
            if isinstance(exception, (RequestError, MissingError, ConflictError)):
                return None
            if job.attempts + 1 >= runs:
                return None
            return super().get_retry_decision(exception=exception, job=job)

    return TransientOnly(exponential_wait=4)


def build_app(dsn: str, settings: Any, *, provider: bool = True) -> Any:
    """The worker's procrastinate app: every task, the retry policy and the schedule."""
    import procrastinate
    from procrastinate import builtin_tasks

    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=dsn, min_size=1, max_size=4)
    )
    retry = _retry_strategy(settings.job_max_attempts)
    for name, body in BODIES.items():
        app.task(name=name, pass_context=True, retry=retry)(_job_task(name, body))

    async def cleanup_jobs(context: Any, timestamp: int | None = None) -> None:
        """Finished jobs (and their events) older than JOB_RETENTION_DAYS are removed."""
        await builtin_tasks.remove_old_jobs(
            context,
            max_hours=settings.job_retention_days * 24,
            remove_failed=True,
            remove_cancelled=True,
            remove_aborted=True,
        )
        runtime: Runtime = context.additional_context["runtime"]
        await asyncio.to_thread(runtime.queue.store.prune_outcomes)

    app.task(name="cleanup_jobs", pass_context=True)(cleanup_jobs)
    for entry in entries(settings, provider=provider):
        app.periodic_registry.register_task(
            task=app.tasks[entry.task],
            cron=entry.cron,
            periodic_id=entry.name,
            configure_kwargs={"task_kwargs": dict(entry.kwargs)},
        )
    return app


def _lanes(settings: Any) -> list[tuple[str, list[str], int]]:
    """Two lanes per worker: training (WORKER_CONCURRENCY at once) and everything else
    (refreshes, scoring, checks: two at once), so no refresh waits behind a training."""
    return [
        ("heavy", [HEAVY], settings.worker_concurrency),
        ("light", ["default"], 2),
    ]


def _start_up(services: Any, queue: JobQueue) -> None:
    """What a fresh start needs without anybody asking: each queued once however many workers
    start together (queueing locks)."""
    if services.market.provider is not None:
        queue.defer("market_refresh", {"interval": "1d"}, unique="startup:market_1d")
    if services.settings.schedule_news != "off":  # automatic news is what the schedule says
        queue.defer("news_refresh", unique="startup:news")
    queue.defer("bootstrap", unique="bootstrap")


async def _watch_stalled(app: Any, runtime: Runtime) -> None:
    """Every few seconds: jobs left running by a worker that stopped sending heartbeats (killed,
    a lost machine) are queued again, or failed once they have used all their runs."""
    settings = runtime.settings
    after = settings.worker_stalled_after_seconds
    manager = app.job_manager
    while True:
        await asyncio.sleep(max(1.0, after / 4))
        try:
            stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=after)
        except Exception as exc:  # the database is away: try again next round
            log.warning("stalled-job check failed: %s", exc)
            continue
        for job in stalled:
            await _requeue(manager, runtime, job)


async def _requeue(manager: Any, runtime: Runtime, job: Any) -> None:
    from procrastinate.jobs import Status

    runs = int(job.attempts) + 1  # the runs before, and the one its worker never finished
    try:
        if runs >= runtime.settings.job_max_attempts:
            error = f"WorkerLost: its worker stopped answering during {runs} run(s)"
            await asyncio.to_thread(runtime.queue.store.outcome, job.id, error=error)
            await manager.finish_job_by_id_async(job.id, status=Status.FAILED, delete_job=False)
            log.warning("job %s (%s) lost its worker %d times: failed", job.id, job.task_name, runs)
        else:
            await manager.retry_job(job)
            log.warning("job %s (%s) lost its worker: queued again", job.id, job.task_name)
    except Exception as exc:  # another worker took it first
        log.info("stalled job %s not requeued here: %s", job.id, exc)


def _stop_on_signals(stop: asyncio.Event) -> None:
    """SIGTERM and SIGINT set `stop` (the main thread only; elsewhere the caller stops us)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):
            return


async def run_worker(
    services: Any,
    *,
    stop: asyncio.Event | None = None,
    install_signal_handlers: bool = True,
    start_up: bool = True,
) -> None:
    """Run jobs until SIGTERM/SIGINT (or `stop` is set): first the start-up work (bars, news,
    first-run training), then whatever the queue and the schedule bring. On stop a running
    training stops at its next fold or epoch and goes back to the queue for another worker;
    other jobs finish. A lane that dies on its own ends the worker with its error."""
    settings = services.settings
    app = build_app(services.dsn, settings, provider=services.market.provider is not None)
    runtime = Runtime(services=services, queue=services.jobs)
    if stop is None:
        stop = asyncio.Event()
        if install_signal_handlers:
            _stop_on_signals(stop)
    if start_up:
        await asyncio.to_thread(_start_up, services, services.jobs)
    async with app.open_async():
        lanes = {
            asyncio.create_task(
                app.run_worker_async(
                    queues=queues,
                    name=f"{name}-{os.getpid()}",
                    concurrency=concurrency,
                    additional_context={"runtime": runtime},
                    install_signal_handlers=False,
                    update_heartbeat_interval=settings.worker_heartbeat_seconds,
                    stalled_worker_timeout=settings.worker_stalled_after_seconds,
                    fetch_job_polling_interval=2.0,
                )
            ): name
            for name, queues, concurrency in _lanes(settings)
            if concurrency
        }
        watchdog = asyncio.create_task(_watch_stalled(app, runtime))
        waiter = asyncio.create_task(stop.wait())
        await asyncio.wait({*lanes, waiter}, return_when=asyncio.FIRST_COMPLETED)
        runtime.stopping.set()  # a running training gives its job back at its next step
        waiter.cancel()
        watchdog.cancel()
        for lane in lanes:
            if not lane.done():
                lane.cancel()  # procrastinate stops gracefully: running jobs end first
        results = await asyncio.gather(*lanes, return_exceptions=True)
    if not stop.is_set():  # a lane stopped by itself (its database connection failed...)
        failed = [(lanes[t], r) for t, r in zip(lanes, results, strict=True)]
        errors = [r for _, r in failed if isinstance(r, Exception)]
        if errors:
            raise errors[0]
        raise RuntimeError(f"worker lane {failed[0][0]} stopped on its own")
