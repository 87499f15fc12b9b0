-- Alert state, one row per condition (`drift:BTC-USD`, `stale:ETH-USD:1h`, `backup`, ...), so
-- every worker decides from the same facts: whether it is active, when it started, when a
-- message last went out (the cooldown counts from there) and when it cleared. A message owed
-- but not yet delivered everywhere is `pending_*`; `delivered` lists the channels that have it;
-- `claim`/`claimed_until` mark the worker sending it now (another worker skips it until the
-- lease ends, so a crash mid-send is retried, never lost). Written by `knowledge.alerts`.
CREATE TABLE alert_state (
    condition_key  text        PRIMARY KEY,
    active         boolean     NOT NULL,
    message        text        NOT NULL DEFAULT '',
    first_seen     timestamptz NOT NULL,
    last_sent      timestamptz,
    cleared_at     timestamptz,
    pending_kind   text        CHECK (pending_kind IN ('raised', 'reminder', 'cleared')),
    pending_text   text,
    delivered      text[]      NOT NULL DEFAULT '{}',
    claim          text,
    claimed_until  timestamptz,
    attempts       integer     NOT NULL DEFAULT 0,
    last_error     text,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((pending_kind IS NULL) = (pending_text IS NULL))
);
