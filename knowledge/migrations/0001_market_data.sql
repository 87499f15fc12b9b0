-- Market data: OHLCV bars per symbol and interval, provider sync state, import audit.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE price_bars (
    symbol      text             NOT NULL,
    interval    text             NOT NULL CHECK (interval IN ('1d', '1h')),
    ts          timestamptz      NOT NULL,
    open        double precision NOT NULL CHECK (open > 0),
    high        double precision NOT NULL CHECK (high > 0),
    low         double precision NOT NULL CHECK (low > 0),
    close       double precision NOT NULL CHECK (close > 0),
    volume      double precision NOT NULL CHECK (volume >= 0),
    source      text             NOT NULL,
    updated_at  timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (symbol, interval, ts),
    CHECK (high >= low)
);

CREATE TABLE market_sync (
    symbol           text        NOT NULL,
    interval         text        NOT NULL,
    source           text        NOT NULL,
    last_attempt_at  timestamptz NOT NULL,
    last_success_at  timestamptz,
    ok               boolean     NOT NULL,
    message          text        NOT NULL DEFAULT '',
    PRIMARY KEY (symbol, interval)
);

CREATE TABLE data_imports (
    id           bigserial   PRIMARY KEY,
    file_name    text        NOT NULL,
    sha256       text        NOT NULL,
    symbol       text        NOT NULL,
    interval     text        NOT NULL,
    rows         integer     NOT NULL,
    imported_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX data_imports_sha ON data_imports (sha256);
