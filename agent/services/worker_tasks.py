"""What the workers do: each task's body, given the worker's services. They are registered on
the queue by `agent.services.worker`, run only in worker processes, and record their progress
and outcome beside the job so every replica can show them."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.services.jobs import HEAVY, JobQueue

log = logging.getLogger(__name__)


class WorkerStopping(Exception):
    """The worker is shutting down: a long job gives its job back to the queue at once."""


class JobFailed(Exception):
    """A task that did nothing useful (every source unreachable): recorded as a failure."""


@dataclass
class Runtime:
    """What a task sees: the worker's services and the queue (to chain follow-up jobs)."""

    services: Any
    queue: JobQueue
    stopping: threading.Event = field(default_factory=threading.Event)

    def check(self) -> None:
        """Raise WorkerStopping when the worker is stopping (called between steps)."""
        if self.stopping.is_set():
            raise WorkerStopping("the worker is stopping; the job goes back to the queue")

    @property
    def settings(self) -> Any:
        return self.services.settings


def throttled(store: Any, job_id: int, every: float = 1.0) -> Callable[..., None]:
    """A progress writer that touches the database at most once per `every` seconds."""
    last = [0.0]

    def write(stage: str, done: Any = None, total: Any = None) -> None:
        now = time.monotonic()
        if now - last[0] >= every or (total is not None and done == total):
            last[0] = now
            store.progress(job_id, stage, done, total)

    return write


async def market_refresh(
    rt: Runtime, job_id: int, interval: str = "1d", symbols: Any = None
) -> Any:
    """New bars from the provider, then the ledger scored and first-run training checked."""
    services = rt.services
    if interval == "1h" and not symbols:  # hourly bars: the watchlist's (none when empty)
        symbols = rt.settings.watchlist
        if not symbols:
            return []
    wanted = services.market.symbols(symbols or None)
    note = throttled(rt.queue.store, job_id)
    results = await asyncio.to_thread(
        services.market.refresh, wanted, interval, lambda s: note(f"fetching {s}")
    )
    for result in results:  # servers sharing the cache serve the new bars at once
        await services.market.invalidate(result.symbol, result.interval)
    await asyncio.to_thread(rt.queue.defer, "score_ledger", unique="score_ledger")
    if interval == "1d":
        await asyncio.to_thread(rt.queue.defer, "bootstrap", unique="bootstrap")
    # a symbol the provider failed on is in the result (ok: false) and marked stale, which
    # the stale-data alert reports; the job itself succeeded
    return [r.__dict__ | {"since": str(r.since)} for r in results]


async def news_refresh(rt: Runtime, job_id: int) -> Any:
    """Every configured feed: new items stored, tagged, scored and indexed."""
    from agent.services.sentiment import service_for

    note = throttled(rt.queue.store, job_id)
    service = service_for(rt.services)
    report = await service.refresh_news(lambda stage, done, total: note(stage, done, total))
    if report["feeds"] and report["failed"] == len(report["feeds"]):
        raise JobFailed("no news source could be reached")
    return {k: report[k] for k in ("new_items", "scored", "model", "failed")}


def ping(rt: Runtime, job_id: int) -> Any:
    """Does nothing but answer: shows a worker is taking jobs (and measures the queue itself)."""
    return {"pong": True}


def score_ledger(rt: Runtime, job_id: int) -> Any:
    """Served forecasts whose target dates have closed, scored against the actual prices, and
    served stances whose 1/7/30-day bars have closed, scored by their forward returns."""
    stances = rt.services.forecasts.stances
    return {
        "scored": rt.services.forecasts.ledger.score(),
        "stances_scored": stances.score() if stances is not None else 0,
    }


def train_model(rt: Runtime, job_id: int, symbol: str, reason: str = "requested") -> Any:
    """Walk-forward evaluation, final fit, register, promote if better (model cards follow)."""
    from agent.services.training import TrainProgress

    note = throttled(rt.queue.store, job_id)
    state = {"stage": "starting"}

    def stage(text: str) -> None:
        rt.check()
        state["stage"] = text
        note(text)

    def fold(done: int, total: int) -> None:
        rt.check()
        note(f"{state['stage']} (fold)", done, total)

    def epoch(done: int, *_: Any) -> None:
        rt.check()  # inside Keras' fit: the exception ends the fit, nothing is saved
        note(f"{state['stage']} (epoch)", done, None)

    progress = TrainProgress(on_stage=stage, on_fold=fold, on_epoch=epoch)
    outcome = rt.services.training.train(symbol, progress)
    return outcome.as_dict() | {"reason": reason}


def drift_check(rt: Runtime, job_id: int) -> Any:
    """Champions whose inputs or accuracy drifted get a retraining queued."""
    services = rt.services
    flagged = [s for s in services.training.drifted() if services.training.registry.champion(s)]
    queued = [rt.queue.train(s, "drift flagged").id for s in flagged]
    return {"drifted": flagged, "jobs": queued}


def bootstrap(rt: Runtime, job_id: int) -> Any:
    """First run: watchlist coins with data and no champion are trained; the sentiment head is
    trained from the configured labelled set when there is none yet."""
    from tools.sentiment.embedding_head import latest_head

    services = rt.services
    queued: dict[str, str] = {}
    watchlist = rt.settings.watchlist  # empty: no first-run training (never "every coin")
    for symbol in services.market.symbols(watchlist) if watchlist else []:
        if services.prices.last_timestamp(symbol, "1d") is None:
            continue
        if services.training.registry.champion(symbol) is not None:
            continue
        if rt.queue.training(symbol) is None:
            queued[symbol] = rt.queue.train(symbol, "first run").id
    csv = rt.settings.sentiment_train_csv
    head = latest_head(rt.settings.resolved_model_dir)
    if csv is not None and head is None and rt.queue.store.active("train_sentiment") is None:
        queued["sentiment"] = rt.queue.defer(
            "train_sentiment", {"csv": str(csv)}, unique="train_sentiment", queue=HEAVY
        ).id
    return {"queued": queued}


def train_sentiment(rt: Runtime, job_id: int, csv: str) -> Any:
    """The embedding head trained on a labelled CSV; the servers pick it up on their own."""
    from agent.services.sentiment_models import train_embedding_head

    note = throttled(rt.queue.store, job_id)
    meta = train_embedding_head(
        Path(csv), rt.settings.resolved_model_dir, embedder=rt.services.embedder, on_stage=note
    )
    return {"version": meta["version"], "macro_f1": meta["evaluation"]["macro_f1"]}


def backup(rt: Runtime, job_id: int) -> Any:
    """A dump of the database in DATA_HOME/backups as `scheduled-<UTC time>.dump`, keeping the
    newest BACKUP_KEEP of those (dumps made by hand with `db backup` are never deleted)."""
    from agent.services.backup import backup_database, default_backup_path

    settings = rt.settings
    note = throttled(rt.queue.store, job_id)
    folder = default_backup_path(settings).parent
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    result = backup_database(
        settings, folder / f"scheduled-{stamp}.dump", on_progress=lambda *a: note("dumping")
    )
    dumps = sorted(folder.glob("scheduled-*.dump"), key=lambda p: p.name, reverse=True)
    removed = [p.name for p in dumps[settings.backup_keep :]]
    for path in dumps[settings.backup_keep :]:
        path.unlink(missing_ok=True)
    return {"path": Path(str(result.path)).name, "bytes": result.size_bytes, "removed": removed}


def alerts_check(rt: Runtime, job_id: int) -> Any:
    """Every alert condition evaluated; a message per change, and reminders past the cooldown."""
    from agent.services.alerts import gather_conditions

    services = rt.services
    conditions = gather_conditions(
        services, consecutive_failures=rt.queue.store.consecutive_failures()
    )
    sent = services.alerts.process(conditions)
    return {"conditions": len(conditions), "sent": len(sent)}
