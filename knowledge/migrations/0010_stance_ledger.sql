-- The stance ledger: every technical stance served live (chat, Telegram, POST /technical), one
-- row per (symbol, interval, bar) whatever the channel; a repeated call raises `served_count`
-- instead of adding rows. `close` is the close of the bar the stance was computed on (the
-- reference of the forward returns); `return_1d/7d/30d` are filled by the scorer once the bar
-- that many days later has closed, and never changed after. Written by
-- `knowledge.models.stance_ledger`.
CREATE TABLE stance_ledger (
    id            bigserial        PRIMARY KEY,
    symbol        text             NOT NULL,
    interval      text             NOT NULL CHECK (interval IN ('1d', '1h')),
    as_of         timestamptz      NOT NULL,
    stance        text             NOT NULL CHECK (stance IN
                      ('strong_bearish', 'bearish', 'neutral', 'bullish', 'strong_bullish')),
    score         double precision NOT NULL CHECK (score BETWEEN -1 AND 1),
    close         double precision NOT NULL CHECK (close > 0),
    first_served  timestamptz      NOT NULL DEFAULT now(),
    last_served   timestamptz      NOT NULL DEFAULT now(),
    served_count  integer          NOT NULL DEFAULT 1 CHECK (served_count > 0),
    return_1d     double precision,
    return_7d     double precision,
    return_30d    double precision,
    scored_at     timestamptz,
    UNIQUE (symbol, interval, as_of)
);
-- the scorer's work list: calls still waiting for their 30-day return
CREATE INDEX stance_ledger_unscored ON stance_ledger (symbol, interval, as_of)
    WHERE return_30d IS NULL;
