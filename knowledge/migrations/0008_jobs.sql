-- What the job queue (procrastinate, whose own tables `ensure_queue_schema` creates) does not
-- keep: a running job's progress and a finished job's result or error, so any replica can
-- answer GET /admin/jobs/{id}. One row per job id, written by the worker that runs it.
CREATE TABLE job_outcomes (
    job_id      bigint      PRIMARY KEY,
    stage       text,
    done        integer,
    total       integer,
    result      jsonb,
    error       text,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
