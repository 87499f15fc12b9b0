-- Web chat history (Chainlit's data layer, `ui/threads.py`): who chatted, their conversations,
-- what each showed (messages and tool steps), the charts attached, and message feedback.
-- The agent's own memory of a conversation is the LangGraph checkpoint under the same thread id;
-- these tables let the browser list past conversations, redisplay one and resume it.
CREATE TABLE web_users (
    id          uuid        PRIMARY KEY,
    identifier  text        NOT NULL UNIQUE,
    metadata    jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE web_threads (
    id          text        PRIMARY KEY,  -- the Chainlit thread id, also the agent's thread id
    user_id     uuid        REFERENCES web_users (id) ON DELETE CASCADE,
    name        text,
    metadata    jsonb       NOT NULL DEFAULT '{}',
    tags        text[]      NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX web_threads_by_user ON web_threads (user_id, updated_at DESC, id DESC);

CREATE TABLE web_steps (
    id          text        PRIMARY KEY,
    thread_id   text        NOT NULL REFERENCES web_threads (id) ON DELETE CASCADE,
    parent_id   text,
    type        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    seq         bigserial,                   -- arrival order, to break created_at ties
    data        jsonb       NOT NULL          -- Chainlit's step dict (empty values left out)
);
CREATE INDEX web_steps_by_thread ON web_steps (thread_id, created_at, seq);

CREATE TABLE web_elements (
    id          text        PRIMARY KEY,
    thread_id   text        NOT NULL REFERENCES web_threads (id) ON DELETE CASCADE,
    for_id      text,                        -- the message or step it is attached to
    data        jsonb       NOT NULL,        -- Chainlit's element dict, without session keys
    mime        text,
    content     bytea                        -- the element itself (a chart's JSON); NULL = url
);
CREATE INDEX web_elements_by_thread ON web_elements (thread_id);

CREATE TABLE web_feedback (
    id          text        PRIMARY KEY,
    step_id     text        NOT NULL UNIQUE REFERENCES web_steps (id) ON DELETE CASCADE,
    value       smallint    NOT NULL CHECK (value IN (0, 1)),
    comment     text
);
