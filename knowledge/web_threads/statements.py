"""The statements on the web chat tables: users, threads, steps, elements and feedback.

Each runs on the given connections (`Connections`: the pool, or the web chat's store over it),
takes plain values (Chainlit's string ids too) and returns
rows as dicts. Chainlit writes from fire-and-forget tasks, so a step's update can land before its
creation: steps are upserted by merging their data, and a step or element creates its thread row.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from knowledge.web_threads.pool import Connections

MAX_THREAD_NAME = 255

Row = dict[str, Any]

_THREAD_COLUMNS = sql.SQL(
    "t.id, t.name, t.user_id, t.metadata, t.tags, t.created_at, t.updated_at, "
    "u.identifier AS user_identifier"
)
_ELEMENT_COLUMNS = "id, thread_id, for_id, data, mime, content IS NOT NULL AS has_content"


_dumps = partial(json.dumps, default=str)


def _json(value: Any) -> Jsonb:
    """A jsonb parameter; values JSON cannot hold (dates, ids) are written as text."""
    return Jsonb(value, dumps=_dumps)


# users
async def user(store: Connections, identifier: str) -> Row | None:
    """The stored user with this identifier (None before their first login)."""
    return await store.fetch_one(
        "SELECT id, identifier, metadata, created_at FROM web_users WHERE identifier = %s",
        (identifier,),
    )


async def save_user(store: Connections, identifier: str, metadata: Mapping[str, Any]) -> Row | None:
    """Store a user, or replace the metadata of the one with this identifier; the stored row."""
    return await store.fetch_one(
        """INSERT INTO web_users (id, identifier, metadata) VALUES (%s, %s, %s)
           ON CONFLICT (identifier) DO UPDATE SET metadata = EXCLUDED.metadata
           RETURNING id, identifier, metadata, created_at""",
        (uuid.uuid4(), identifier, _json(metadata)),
    )


# feedback
async def save_feedback(
    store: Connections, feedback_id: str, step_id: str, value: int, comment: str | None
) -> str:
    """Record a message's feedback, one per message (the last one wins); its id."""
    row = await store.fetch_one(
        """INSERT INTO web_feedback (id, step_id, value, comment) VALUES (%s, %s, %s, %s)
           ON CONFLICT (step_id) DO UPDATE
               SET value = EXCLUDED.value, comment = EXCLUDED.comment
           RETURNING id""",
        (feedback_id, step_id, value, comment),
    )
    assert row is not None  # INSERT ... RETURNING always returns the row
    return str(row["id"])


async def delete_feedback(store: Connections, feedback_id: str) -> bool:
    """Remove a feedback; True when there was one."""
    async with store.connection() as conn:
        cursor = await conn.execute("DELETE FROM web_feedback WHERE id = %s", (feedback_id,))
    return cursor.rowcount > 0


# elements
async def save_element(
    store: Connections,
    element_id: str,
    thread_id: str,
    for_id: str,
    data: Mapping[str, Any],
    mime: str | None,
    content: bytes | None,
) -> None:
    """Store an element of a message, with its bytes when it has some."""
    async with store.connection() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO web_threads (id) VALUES (%s) ON CONFLICT (id) DO NOTHING", (thread_id,)
        )
        await conn.execute(
            """INSERT INTO web_elements (id, thread_id, for_id, data, mime, content)
               VALUES (%s, %s, %s, %s, %s, %s)
               ON CONFLICT (id) DO UPDATE SET for_id = EXCLUDED.for_id,
                   data = EXCLUDED.data, mime = EXCLUDED.mime, content = EXCLUDED.content""",
            (element_id, thread_id, for_id, _json(data), mime, content),
        )


async def element(store: Connections, thread_id: str, element_id: str) -> Row | None:
    """One element of a thread, with `has_content` in place of its bytes."""
    return await store.fetch_one(
        f"SELECT {_ELEMENT_COLUMNS} FROM web_elements WHERE id = %s AND thread_id = %s",
        (element_id, thread_id),
    )


async def delete_element(store: Connections, element_id: str, thread_id: str | None) -> None:
    """Remove an element (only from `thread_id` when given)."""
    async with store.connection() as conn:
        if thread_id is None:
            await conn.execute("DELETE FROM web_elements WHERE id = %s", (element_id,))
        else:
            await conn.execute(
                "DELETE FROM web_elements WHERE id = %s AND thread_id = %s",
                (element_id, thread_id),
            )


# steps (messages, tool calls, runs)
async def save_step(
    store: Connections,
    step_id: str,
    thread_id: str,
    parent_id: str | None,
    kind: str,
    created_at: datetime,
    data: Mapping[str, Any],
) -> None:
    """Upsert a step: `data` merged into what is stored, the earliest creation time kept.

    A new user message also marks its thread as the most recently active one.
    """
    async with store.connection() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO web_threads (id) VALUES (%s) ON CONFLICT (id) DO NOTHING", (thread_id,)
        )
        await conn.execute(
            """INSERT INTO web_steps AS s (id, thread_id, parent_id, type, created_at, data)
               VALUES (%s, %s, %s, %s, %s, %s)
               ON CONFLICT (id) DO UPDATE SET
                   parent_id = COALESCE(EXCLUDED.parent_id, s.parent_id),
                   type = EXCLUDED.type,
                   created_at = LEAST(EXCLUDED.created_at, s.created_at),
                   data = s.data || EXCLUDED.data""",
            (step_id, thread_id, parent_id, kind, created_at, _json(data)),
        )
        if kind == "user_message":
            await conn.execute(
                "UPDATE web_threads SET updated_at = now() WHERE id = %s", (thread_id,)
            )


async def delete_step(store: Connections, step_id: str) -> None:
    """Remove a step with its elements (its feedback goes with it)."""
    async with store.connection() as conn, conn.transaction():
        await conn.execute("DELETE FROM web_elements WHERE for_id = %s", (step_id,))
        await conn.execute("DELETE FROM web_steps WHERE id = %s", (step_id,))


async def favorite_steps(store: Connections, user_id: str) -> list[Row]:
    """The user's steps marked as favourite, newest first."""
    return await store.fetch_all(
        """SELECT s.id, s.thread_id, s.parent_id, s.type, s.created_at, s.data
             FROM web_steps s JOIN web_threads t ON t.id = s.thread_id
            WHERE t.user_id = %s AND s.data -> 'metadata' ->> 'favorite' = 'true'
            ORDER BY s.created_at DESC, s.seq DESC""",
        (uuid.UUID(user_id),),
    )


# threads
async def thread_author(store: Connections, thread_id: str) -> str:
    """The identifier of the thread's user ("" when the thread or its user is unknown)."""
    row = await store.fetch_one(
        """SELECT u.identifier FROM web_threads t JOIN web_users u ON u.id = t.user_id
            WHERE t.id = %s""",
        (thread_id,),
    )
    return str(row["identifier"]) if row else ""


async def delete_thread(store: Connections, thread_id: str, memory_key: str) -> None:
    """Delete a thread with its steps, elements, feedback and owner, and the agent's memory of
    it (under `memory_key`, in the checkpointer's tables once those exist)."""
    key = memory_key
    async with store.connection() as conn, conn.transaction():
        await conn.execute("DELETE FROM web_threads WHERE id = %s", (thread_id,))
        await conn.execute("DELETE FROM thread_owners WHERE thread_key = %s", (key,))
        found = await conn.execute("SELECT to_regclass('checkpoints') IS NOT NULL AS found")
        if (await found.fetchone() or {}).get("found"):
            for table in ("checkpoints", "checkpoint_blobs", "checkpoint_writes"):
                query = sql.SQL("DELETE FROM {} WHERE thread_id = %s").format(sql.Identifier(table))
                await conn.execute(query, (key,))


async def thread_page(
    store: Connections,
    user_id: str,
    limit: int,
    search: str | None,
    feedback: int | None,
    cursor: str | None,
) -> list[Row]:
    """Up to `limit` of a user's threads after the `cursor` thread, most recently active first.

    `search` is a plain substring of the name (not a pattern); `feedback` keeps the threads
    with a message given that value.
    """
    conditions = [sql.SQL("t.user_id = %(user_id)s")]
    params: dict[str, Any] = {"user_id": uuid.UUID(user_id), "limit": limit}
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(sql.SQL("t.name ILIKE %(search)s"))
        params["search"] = f"%{escaped}%"
    if feedback is not None:
        conditions.append(
            sql.SQL(
                "EXISTS (SELECT 1 FROM web_feedback f JOIN web_steps s ON s.id = f.step_id "
                "WHERE s.thread_id = t.id AND f.value = %(feedback)s)"
            )
        )
        params["feedback"] = int(feedback)
    if cursor:
        conditions.append(
            sql.SQL(
                "(t.updated_at, t.id) < "
                "(SELECT updated_at, id FROM web_threads WHERE id = %(cursor)s)"
            )
        )
        params["cursor"] = cursor
    query = sql.SQL(
        "SELECT {columns} FROM web_threads t LEFT JOIN web_users u ON u.id = t.user_id "
        "WHERE {conditions} ORDER BY t.updated_at DESC, t.id DESC LIMIT %(limit)s"
    ).format(columns=_THREAD_COLUMNS, conditions=sql.SQL(" AND ").join(conditions))
    return await store.fetch_all(query, params)


async def thread(store: Connections, thread_id: str) -> tuple[Row, list[Row], list[Row]] | None:
    """A thread's row, its steps in order (with their feedback) and its elements."""
    async with store.connection() as conn:
        cursor = await conn.execute(
            sql.SQL(
                "SELECT {columns} FROM web_threads t LEFT JOIN web_users u ON u.id = t.user_id "
                "WHERE t.id = %s"
            ).format(columns=_THREAD_COLUMNS),
            (thread_id,),
        )
        row = await cursor.fetchone()
        if row is None:
            return None
        cursor = await conn.execute(
            """SELECT s.id, s.thread_id, s.parent_id, s.type, s.created_at, s.data,
                      f.id AS feedback_id, f.value AS feedback_value,
                      f.comment AS feedback_comment
                 FROM web_steps s LEFT JOIN web_feedback f ON f.step_id = s.id
                WHERE s.thread_id = %s
                ORDER BY s.created_at, s.seq""",
            (thread_id,),
        )
        steps = await cursor.fetchall()
        cursor = await conn.execute(
            f"SELECT {_ELEMENT_COLUMNS} FROM web_elements WHERE thread_id = %s", (thread_id,)
        )
        elements = await cursor.fetchall()
    return row, steps, elements


async def save_thread(
    store: Connections,
    thread_id: str,
    name: str | None,
    user_id: str | None,
    kept: Mapping[str, Any],
    dropped: list[str],
    tags: list[str] | None,
) -> None:
    """Create or update a thread: name and tags when given, metadata without the `dropped`
    keys and merged with `kept`. The first user to own a thread keeps it."""
    async with store.connection() as conn:
        await conn.execute(
            """INSERT INTO web_threads AS t (id, name, user_id, metadata, tags)
               VALUES (%(id)s, %(name)s, %(user_id)s, %(kept)s,
                       COALESCE(%(tags)s::text[], '{}'))
               ON CONFLICT (id) DO UPDATE SET
                   name = COALESCE(%(name)s, t.name),
                   user_id = COALESCE(t.user_id, %(user_id)s),
                   metadata = (t.metadata - %(dropped)s::text[]) || %(kept)s,
                   tags = COALESCE(%(tags)s::text[], t.tags)""",
            {
                "id": thread_id,
                "name": name[:MAX_THREAD_NAME] if name is not None else None,
                "user_id": uuid.UUID(user_id) if user_id else None,
                "kept": _json(kept),
                "dropped": dropped,
                "tags": tags,
            },
        )


async def element_content(
    store: Connections, element_id: str, user: str
) -> tuple[bytes, str] | None:
    """A stored element's bytes and mime type, only for the owner of its thread."""
    row = await store.fetch_one(
        """SELECT e.content, e.mime
             FROM web_elements e
             JOIN web_threads t ON t.id = e.thread_id
             JOIN web_users u ON u.id = t.user_id
            WHERE e.id = %s AND u.identifier = %s AND e.content IS NOT NULL""",
        (element_id, user),
    )
    if row is None:
        return None
    return bytes(row["content"]), str(row["mime"] or "application/octet-stream")
