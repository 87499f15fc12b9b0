-- Forecast model registry (versions per symbol, one champion at most) and the prediction ledger.
CREATE TABLE model_versions (
    id               bigserial   PRIMARY KEY,
    symbol           text        NOT NULL,
    version          integer     NOT NULL CHECK (version > 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    train_start      date        NOT NULL,
    train_end        date        NOT NULL,
    hyperparams      jsonb       NOT NULL,
    data_fingerprint text        NOT NULL,
    eval_window      jsonb       NOT NULL,
    metrics          jsonb       NOT NULL,
    baseline         jsonb       NOT NULL,
    artifact_path    text        NOT NULL,
    status           text        NOT NULL DEFAULT 'candidate'
                                 CHECK (status IN ('candidate', 'champion', 'archived')),
    notes            text        NOT NULL DEFAULT '',
    UNIQUE (symbol, version)
);
CREATE UNIQUE INDEX model_versions_one_champion ON model_versions (symbol) WHERE status = 'champion';

CREATE TABLE prediction_ledger (
    id               bigserial        PRIMARY KEY,
    symbol           text             NOT NULL,
    model_version    integer          NOT NULL,
    served_at        timestamptz      NOT NULL DEFAULT now(),
    origin_date      date             NOT NULL,
    target_date      date             NOT NULL,
    horizon          integer          NOT NULL CHECK (horizon BETWEEN 1 AND 30),
    origin_close     double precision NOT NULL,
    predicted        double precision NOT NULL,
    lower            double precision NOT NULL,
    upper            double precision NOT NULL,
    actual           double precision,
    scored_at        timestamptz,
    UNIQUE (symbol, model_version, origin_date, target_date)
);
CREATE INDEX prediction_ledger_unscored ON prediction_ledger (symbol, target_date) WHERE actual IS NULL;
