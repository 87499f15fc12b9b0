"""`crypto-assistant worker` and `jobs list | show | retry`: the queue from the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import typer
from rich.table import Table

from cli.common import cli_services, cli_settings, console

app = typer.Typer(help="The job queue: list, inspect and retry jobs.", no_args_is_help=True)
State = Literal["queued", "running", "succeeded", "failed", "cancelled"]


def _when(stamp: float | None) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M:%S") if stamp else ""


def _progress(job: Any) -> str:
    progress = job.progress or {}
    done, total = progress.get("done"), progress.get("total")
    count = f" {done}/{total}" if total else (f" {done}" if done is not None else "")
    return f"{progress.get('stage') or ''}{count}"


@app.command("list")
def list_jobs(
    status: Annotated[State | None, typer.Option(help="only jobs in this state")] = None,
    kind: Annotated[str | None, typer.Option(help="only this task, e.g. train_model")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 30,
) -> None:
    """The newest jobs, with state, attempts and progress, and the schedule's last/next runs."""
    services = cli_services()
    try:
        jobs = services.jobs.list(limit=limit, status=status, kind=kind)
        overview = services.jobs.overview(
            services.settings, provider=services.market.provider is not None
        )
    finally:
        services.db.close()
    table = Table("id", "task", "params", "state", "attempts", "started", "finished", "progress")
    for job in jobs:
        params = ", ".join(f"{k}={v}" for k, v in job.params.items())
        table.add_row(
            job.id,
            job.kind,
            params,
            job.status,
            str(job.attempts),
            _when(job.started_at),
            _when(job.finished_at),
            _progress(job),
        )
    console.print(table)
    schedule = Table("schedule", "cron (UTC)", "last run", "last status", "next run")
    for entry in overview["schedule"]:
        schedule.add_row(
            entry["name"],
            entry["cron"],
            entry["last_run"] or "never",
            entry["last_status"] or "",
            entry["next_run"],
        )
    console.print(schedule)
    console.print(f"{overview['workers']} worker(s) alive; jobs by state: {overview['counts']}")


@app.command("show")
def show(job_id: Annotated[str, typer.Argument(help="job id")]) -> None:
    """One job in full: parameters, state, attempts, progress, result or error."""
    from agent.errors import NotFoundError

    services = cli_services()
    try:
        job = services.jobs.get(job_id)
    except NotFoundError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        services.db.close()
    console.print_json(json.dumps(job.as_dict(), default=str))


@app.command("retry")
def retry(job_id: Annotated[str, typer.Argument(help="id of a failed job")]) -> None:
    """Queue a failed job again (a worker picks it up)."""
    from agent.errors import JobStateError, NotFoundError

    services = cli_services()
    try:
        job = services.jobs.retry(job_id)
    except (NotFoundError, JobStateError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        services.db.close()
    console.print(f"job {job.id} ({job.kind}) queued again: attempt {job.attempts + 1}")


def worker() -> None:
    """Run a job worker: market and news refreshes, training, scoring, drift, alerts, backups
    on the schedule, and whatever the API queues. Stops gracefully on SIGTERM or Ctrl-C."""
    import asyncio

    from agent.core import Services
    from agent.services.worker import run_worker
    from api.logging_setup import configure_logging_for

    settings = cli_settings()
    configure_logging_for(settings)
    services = Services.build(settings)
    console.print(
        f"Worker started (concurrency {settings.worker_concurrency}); Ctrl-C or SIGTERM stops it."
    )
    try:
        asyncio.run(run_worker(services))
    except KeyboardInterrupt:
        pass
    finally:
        asyncio.run(services.aclose())


class _Child:
    """`serve`'s worker process, started again (after a pause) whenever it exits on its own."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.proc = self._start()
        self.stopping = threading.Event()
        self.watch = threading.Thread(target=self._keep_alive, name="worker-watch", daemon=True)
        self.watch.start()

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "cli.main", "worker"], env=self.env)

    def _keep_alive(self) -> None:
        while not self.stopping.wait(2.0):
            code = self.proc.poll()
            if code is None:
                continue
            console.print(
                f"[yellow]The worker process exited ({code}); starting it again.[/yellow]"
            )
            if self.stopping.wait(5.0):
                return
            self.proc = self._start()

    def stop(self) -> None:
        self.stopping.set()
        self.watch.join(timeout=5)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # a training gives its job back at once
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@contextmanager
def worker_beside(settings: Any) -> Iterator[_Child | None]:
    """`serve`'s worker: a `crypto-assistant worker` child process sharing the database (the
    embedded server's URL is handed over), restarted if it dies, stopped with the server."""
    if not settings.start_worker:
        yield None
        return
    from agent.core import database_url

    env = dict(os.environ)
    env.setdefault("DATABASE_URL", database_url(settings))
    child = _Child(env)
    console.print(
        f"Worker process {child.proc.pid} started beside the API (START_WORKER=false: none)"
    )
    try:
        yield child
    finally:
        child.stop()
