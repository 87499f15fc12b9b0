-- News items for sentiment (deduplicated by a hash of URL/guid, tagged with symbols, scored once)
-- and per-feed HTTP validators for conditional requests.
CREATE TABLE news_feeds (
    url              text        PRIMARY KEY,
    kind             text        NOT NULL CHECK (kind IN ('rss', 'reddit')),
    name             text        NOT NULL,
    etag             text,
    last_modified    text,
    last_fetched_at  timestamptz,
    last_status      text,
    last_error       text,
    items_total      integer     NOT NULL DEFAULT 0
);

CREATE TABLE news_items (
    id                  bigserial        PRIMARY KEY,
    item_key            text             NOT NULL UNIQUE,
    url                 text,
    guid                text,
    title               text             NOT NULL,
    summary             text             NOT NULL DEFAULT '',
    text                text             NOT NULL,
    source              text             NOT NULL,
    feed_url            text             NOT NULL,
    published_at        timestamptz      NOT NULL,
    published_estimated boolean          NOT NULL DEFAULT false,
    fetched_at          timestamptz      NOT NULL DEFAULT now(),
    symbols             text[]           NOT NULL DEFAULT '{}',
    label               text             CHECK (label IN ('bearish', 'neutral', 'bullish')),
    score               double precision CHECK (score BETWEEN -1 AND 1),
    confidence          double precision CHECK (confidence BETWEEN 0 AND 1),
    model               text,
    scored_at           timestamptz,
    CHECK ((score IS NULL) = (model IS NULL))
);
CREATE INDEX news_items_symbols ON news_items USING gin (symbols);
CREATE INDEX news_items_published ON news_items (published_at DESC);
CREATE INDEX news_items_unscored ON news_items (id) WHERE score IS NULL;
