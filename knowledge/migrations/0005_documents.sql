-- Knowledge store: documents and their chunks, searchable by vector (pgvector) and full text.
--
-- The vector column is NOT created here: its dimension follows the configured embedding model,
-- so `knowledge.documents.store.DocumentStore.ensure_embedding_space` adds `chunks.embedding`
-- (vector(N)) and its HNSW index, and recreates them and re-embeds every chunk when the model
-- changes. `embedding_space` records the model in force; each chunk records the model of its
-- vector, so vectors of two models are never compared.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE embedding_space (
    singleton   boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    model       text        NOT NULL,
    dimension   integer     NOT NULL CHECK (dimension > 0),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE documents (
    id            bigserial   PRIMARY KEY,
    source        text        NOT NULL UNIQUE,  -- file path, corpus/..., a news URL, model-registry:SYM
    origin        text        NOT NULL CHECK (origin IN ('file', 'corpus', 'news', 'model_card')),
    kind          text        NOT NULL CHECK (kind IN ('guide', 'coin', 'news', 'model_card')),
    title         text        NOT NULL,
    symbols       text[]      NOT NULL DEFAULT '{}',
    published_at  timestamptz,                  -- NULL = timeless reference text
    content_hash  text        NOT NULL,
    chunk_count   integer     NOT NULL DEFAULT 0,
    metadata      jsonb       NOT NULL DEFAULT '{}',
    ingested_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_kind ON documents (kind);

-- kind, symbols and published_at are copied from the document so that a filtered vector search
-- filters the rows of the index scan itself (no join), which HNSW iterative scans need.
CREATE TABLE chunks (
    id               bigserial   PRIMARY KEY,
    document_id      bigint      NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    ordinal          integer     NOT NULL,
    title            text        NOT NULL,
    section          text        NOT NULL DEFAULT '',
    text             text        NOT NULL,
    kind             text        NOT NULL,
    symbols          text[]      NOT NULL DEFAULT '{}',
    published_at     timestamptz,
    embedding_model  text,
    tsv              tsvector    GENERATED ALWAYS AS (
                         setweight(to_tsvector('english', title), 'A')
                         || setweight(to_tsvector('english', section), 'A')
                         || setweight(to_tsvector('english', text), 'B')
                     ) STORED,
    UNIQUE (document_id, ordinal)
);
CREATE INDEX chunks_tsv ON chunks USING gin (tsv);
CREATE INDEX chunks_symbols ON chunks USING gin (symbols);
CREATE INDEX chunks_kind_published ON chunks (kind, published_at);
