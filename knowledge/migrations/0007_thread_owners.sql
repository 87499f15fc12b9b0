-- Conversations belong to a principal: the API key (its SHA-256), the web user, or the Telegram
-- chat that first used the thread. `thread_key` is "<surface>:<thread id>" (api, web, telegram,
-- cli), which is also the agent's checkpoint thread id, so surfaces never share a conversation.
-- A thread owned by another principal answers 404 (`agent.chat.ChatService`).
CREATE TABLE thread_owners (
    thread_key  text        PRIMARY KEY,
    principal   text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Conversations from before this migration keep working where their owner is known: a web
-- thread belongs to its stored user, a Telegram thread `tg-<chat id>` to that chat. Their
-- checkpoints move under the namespaced id. Other (API) checkpoints have no known owner and
-- stay under their old id, which no surface reads any more.
INSERT INTO thread_owners (thread_key, principal)
SELECT 'web:' || t.id, u.identifier
FROM web_threads AS t JOIN web_users AS u ON u.id = t.user_id;

DO $$
DECLARE
    tbl text;
BEGIN
    IF to_regclass('checkpoints') IS NULL THEN
        RETURN;  -- a new database: the checkpointer creates its tables later
    END IF;
    INSERT INTO thread_owners (thread_key, principal)
    SELECT DISTINCT 'telegram:' || c.thread_id, 'chat:' || substring(c.thread_id FROM 4)
    FROM checkpoints AS c
    WHERE c.thread_id ~ '^tg--?[0-9]+$'
    ON CONFLICT (thread_key) DO NOTHING;
    FOREACH tbl IN ARRAY ARRAY['checkpoints', 'checkpoint_blobs', 'checkpoint_writes'] LOOP
        IF to_regclass(tbl) IS NOT NULL THEN
            EXECUTE format(
                'UPDATE %I SET thread_id = ''web:'' || thread_id '
                'WHERE thread_id IN (SELECT id FROM web_threads)', tbl);
            EXECUTE format(
                'UPDATE %I SET thread_id = ''telegram:'' || thread_id '
                'WHERE thread_id ~ ''^tg--?[0-9]+$''', tbl);
        END IF;
    END LOOP;
END
$$;
