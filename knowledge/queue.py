"""The job queue's tables: procrastinate's schema (created once, under the migration lock) and
reads of jobs, progress and outcomes that any replica answers from the database."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row

from knowledge.database import Database

_LOCK_KEY = 7_274_221_002
#: procrastinate's states, named as the API has always named them
STATES = {
    "todo": "queued",
    "doing": "running",
    "succeeded": "succeeded",
    "failed": "failed",
    "cancelled": "cancelled",
    "aborting": "running",
    "aborted": "cancelled",
}
_SELECT = """
SELECT j.id, j.task_name, j.args, j.status::text AS status, j.attempts, j.queue_name,
       j.scheduled_at,
       (SELECT min(e.at) FROM procrastinate_events e
         WHERE e.job_id = j.id AND e.type = 'deferred') AS created_at,
       (SELECT max(e.at) FROM procrastinate_events e
         WHERE e.job_id = j.id AND e.type = 'started') AS started_at,
       (SELECT max(e.at) FROM procrastinate_events e
         WHERE e.job_id = j.id AND e.type IN ('succeeded', 'failed', 'cancelled', 'aborted'))
         AS finished_at,
       o.stage, o.done, o.total, o.result, o.error
  FROM procrastinate_jobs j LEFT JOIN job_outcomes o ON o.job_id = j.id
"""


def ensure_queue_schema(db: Database) -> bool:
    """Create procrastinate's tables and functions when missing; True when created now."""
    from procrastinate.schema import SchemaManager

    with db.connection() as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            found = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
            if found is not None and found[0] is not None:
                return False
            with conn.transaction():
                conn.execute(SchemaManager.get_schema())  # type: ignore[call-overload]
            return True
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))


@dataclass
class JobRecord:
    """One job as every front-end shows it."""

    id: str
    kind: str
    params: dict[str, Any]
    status: str
    attempts: int
    queue: str
    created_at: float | None
    started_at: float | None
    finished_at: float | None
    progress: dict[str, Any] | None
    result: Any
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _stamp(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _record(row: dict[str, Any]) -> JobRecord:
    status = STATES.get(row["status"], row["status"])
    finished = row["finished_at"] if status in ("succeeded", "failed", "cancelled") else None
    progress = None
    if row["stage"] is not None or row["total"] is not None:
        progress = {"stage": row["stage"], "done": row["done"], "total": row["total"]}
    return JobRecord(
        id=str(row["id"]),
        kind=row["task_name"],
        params={k: v for k, v in (row["args"] or {}).items() if k != "timestamp"},
        status=status,
        attempts=int(row["attempts"]),
        queue=row["queue_name"],
        created_at=_stamp(row["created_at"] or row["scheduled_at"]),
        started_at=_stamp(row["started_at"]),
        finished_at=_stamp(finished),
        progress=progress,
        result=row["result"],
        error=row["error"] if status != "succeeded" else None,
    )


class JobStore:
    """Reads of the queue, and the progress and outcome a worker writes beside each job."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, job_id: int) -> JobRecord | None:
        with self.db.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(_SELECT + " WHERE j.id = %s", (job_id,)).fetchone()
        return _record(row) if row else None

    def recent(
        self, *, limit: int = 50, status: str | None = None, kind: str | None = None
    ) -> list[JobRecord]:
        """The newest jobs first; `status` in the API's words (queued, running, ...)."""
        raw = [k for k, v in STATES.items() if v == status] if status else None
        query = _SELECT + " WHERE (%(raw)s::text[] IS NULL OR j.status::text = ANY(%(raw)s))"
        query += " AND (%(kind)s::text IS NULL OR j.task_name = %(kind)s)"
        query += " ORDER BY j.id DESC LIMIT %(limit)s"
        with self.db.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(query, {"raw": raw, "kind": kind, "limit": limit}).fetchall()
        return [_record(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """Jobs by state (the API's words), for /system-status and the metrics."""
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY 1"
            ).fetchall()
        out: dict[str, int] = {}
        for raw, count in rows:
            out[STATES.get(raw, raw)] = out.get(STATES.get(raw, raw), 0) + int(count)
        return out

    def progress(self, job_id: int, stage: str, done: int | None, total: int | None) -> None:
        with self.db.connection() as conn:
            conn.execute(
                """INSERT INTO job_outcomes (job_id, stage, done, total) VALUES (%s, %s, %s, %s)
                   ON CONFLICT (job_id) DO UPDATE SET stage = excluded.stage,
                       done = excluded.done, total = excluded.total, updated_at = now()""",
                (job_id, stage, done, total),
            )

    def outcome(self, job_id: int, *, result: Any = None, error: str | None = None) -> None:
        with self.db.connection() as conn:
            conn.execute(
                """INSERT INTO job_outcomes (job_id, result, error) VALUES (%s, %s, %s)
                   ON CONFLICT (job_id) DO UPDATE SET result = excluded.result,
                       error = excluded.error, updated_at = now()""",
                (job_id, json.dumps(result, default=str), error),
            )

    def waiting(self, queueing_lock: str) -> JobRecord | None:
        """The queued job holding `queueing_lock`, if one waits."""
        query = _SELECT + " WHERE j.queueing_lock = %s AND j.status = 'todo' LIMIT 1"
        with self.db.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(query, (queueing_lock,)).fetchone()
        return _record(row) if row else None

    def active(self, kind: str, **params: Any) -> JobRecord | None:
        """A running job of `kind` whose arguments include `params`, else the oldest queued."""
        query = (
            _SELECT + " WHERE j.task_name = %s AND j.status IN ('todo', 'doing')"
            " AND j.args @> %s::jsonb ORDER BY j.status = 'doing' DESC, j.id LIMIT 1"
        )
        with self.db.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(query, (kind, json.dumps(params))).fetchone()
        return _record(row) if row else None

    def consecutive_failures(self, window: int = 20) -> dict[str, int]:
        """Per task, how many of its latest finished runs failed in a row (0 after a success)."""
        with self.db.connection() as conn:
            rows = conn.execute(
                """SELECT task_name, status::text FROM (
                       SELECT task_name, status, row_number() OVER (
                           PARTITION BY task_name ORDER BY id DESC) AS n
                         FROM procrastinate_jobs WHERE status IN ('succeeded', 'failed')) t
                    WHERE n <= %s ORDER BY task_name, n""",
                (window,),
            ).fetchall()
        out: dict[str, int] = {}
        broken: set[str] = set()
        for task, status in rows:
            out.setdefault(task, 0)
            if task in broken:
                continue
            if status == "failed":
                out[task] += 1
            else:
                broken.add(task)
        return out

    def last_run(self, task: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        """When jobs of `task` (with arguments including `args`) last succeeded and how the
        latest finished one ended."""
        with self.db.connection() as conn:
            row = conn.execute(
                """SELECT max(e.at) FILTER (WHERE e.type = 'succeeded'),
                          max(e.at) FILTER (WHERE e.type IN ('succeeded', 'failed')),
                          (array_agg(e.type::text ORDER BY e.at DESC) FILTER (
                              WHERE e.type IN ('succeeded', 'failed')))[1]
                     FROM procrastinate_jobs j JOIN procrastinate_events e ON e.job_id = j.id
                    WHERE j.task_name = %s AND j.args @> %s::jsonb""",
                (task, json.dumps(args or {})),
            ).fetchone()
        ok, done, last = row if row else (None, None, None)
        return {"last_success": _stamp(ok), "last_run": _stamp(done), "last_status": last}

    def retry(self, job_id: int, stalled_after: float) -> bool:
        """Queue a failed job again, or a running one whose worker is gone or silent for
        `stalled_after` seconds; False in any other state (a live worker's job is left alone,
        or two workers would run it)."""
        with self.db.connection() as conn, conn.transaction():
            row = conn.execute(
                """SELECT j.status::text,
                          j.worker_id IS NULL OR w.id IS NULL
                          OR w.last_heartbeat < now() - make_interval(secs => %s)
                     FROM procrastinate_jobs j
                     LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
                    WHERE j.id = %s FOR UPDATE OF j""",
                (stalled_after, job_id),
            ).fetchone()
            if row is None or not (row[0] == "failed" or (row[0] == "doing" and row[1])):
                return False
            conn.execute(
                "SELECT procrastinate_retry_job_v2(%s, now(), NULL, NULL, NULL)", (job_id,)
            )
        return True

    def workers(self, alive_within: float = 60.0) -> list[dict[str, Any]]:
        """Worker lanes whose last heartbeat is at most `alive_within` seconds old, newest first."""
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT id, last_heartbeat FROM procrastinate_workers"
                " WHERE last_heartbeat >= now() - make_interval(secs => %s)"
                " ORDER BY last_heartbeat DESC",
                (alive_within,),
            ).fetchall()
        return [{"id": r[0], "last_heartbeat": _stamp(r[1])} for r in rows]

    def prune_outcomes(self) -> int:
        """Delete the progress and outcome rows of jobs the queue no longer has."""
        with self.db.connection() as conn:
            cur = conn.execute(
                "DELETE FROM job_outcomes o WHERE NOT EXISTS "
                "(SELECT 1 FROM procrastinate_jobs j WHERE j.id = o.job_id)"
            )
            return cur.rowcount

    def durations(self, limit: int = 2000) -> list[tuple[str, str, float]]:
        """(task, final state, seconds from start to finish) of the latest finished runs."""
        with self.db.connection() as conn:
            rows = conn.execute(
                """SELECT j.task_name, j.status::text,
                          extract(epoch FROM max(e.at) FILTER (
                              WHERE e.type IN ('succeeded', 'failed'))
                              - max(e.at) FILTER (WHERE e.type = 'started'))
                     FROM procrastinate_jobs j JOIN procrastinate_events e ON e.job_id = j.id
                    WHERE j.status IN ('succeeded', 'failed')
                    GROUP BY j.id ORDER BY j.id DESC LIMIT %s""",
                (limit,),
            ).fetchall()
        return [(t, st, float(sec)) for t, st, sec in rows if sec is not None and sec >= 0]
