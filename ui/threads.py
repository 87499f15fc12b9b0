"""Chainlit's data layer on the assistant's own Postgres (psycopg 3), so web conversations persist.

With it Chainlit lists a user's past conversations in the sidebar, redisplays one (messages,
tool steps, charts) and resumes it on the same thread id, which is also the agent's memory key:
a follow-up in a resumed conversation is answered with that conversation's memory.

The tables come from `knowledge/migrations/0003_web_threads.sql`. Chainlit writes from
fire-and-forget tasks, so a step's update can land before its creation: steps are upserted by
merging only non-empty fields, and a step or element creates its thread row when it is first.
Element contents (chart JSON) are stored in the row and served back to the thread's owner by
`element_response` under the web chat's path, because Chainlit's own file URLs only live as long
as the browser session that produced them.

Chainlit holds one data layer per process while each API app has its own database, so every call
resolves the `ThreadStore` of the app serving the current request (see `ui.scope`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chainlit.data.base import BaseDataLayer
from chainlit.data.utils import queue_until_user_message
from chainlit.types import (
    Feedback,
    FeedbackDict,
    PageInfo,
    PaginatedResponse,
    Pagination,
    ThreadDict,
    ThreadFilter,
)
from chainlit.user import PersistedUser, User
from fastapi import FastAPI, Request, Response
from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from agent.memory import ThreadMemory
from agent.services import Services
from ui.auth import cookie_user
from ui.scope import serving_app, started_services

if TYPE_CHECKING:
    from chainlit.element import Element, ElementDict
    from chainlit.step import StepDict

log = logging.getLogger(__name__)

STORE_KEY = "web_threads"
ELEMENTS_PATH = "/stored-elements"
POOL_MAX_SIZE = 4
MAX_THREAD_NAME = 255
# transient (streaming) or stored in their own table (feedback), never in a step's data
_UNSTORED_STEP_KEYS = frozenset({"streaming", "feedback"})
# belong to the browser session that sent the element, meaningless once it has gone
_SESSION_ELEMENT_KEYS = frozenset({"chainlitKey", "path", "objectKey"})


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


def _json(value: Any) -> Jsonb:
    """A jsonb parameter; values JSON cannot hold (dates, ids) are written as text."""
    return Jsonb(value, dumps=_dumps)


def _blank(value: Any) -> bool:
    """Whether a field carries nothing a later write should keep (None, False, "", {}, [])."""
    return value is None or value is False or (isinstance(value, str | dict | list) and not value)


def _iso(moment: datetime) -> str:
    """Chainlit's timestamp format: naive UTC ISO time with a trailing Z."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def _parse_time(text: Any) -> datetime:
    """A step's ISO time (Chainlit writes `...Z`), or now when it has none or is unreadable."""
    if isinstance(text, str) and text:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return datetime.now(UTC)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)


class ThreadStoreUnavailable(RuntimeError):
    """The web chat history cannot be reached: no API app serves this call, or it is starting."""


class ThreadStore:
    """The web chat tables of one API app's database, through a small pool opened on first use.

    The pool is opened lazily from the app's started services (their DSN and timeout) and closed
    when the app shuts down (`install_thread_store` hooks the app's lifespan).
    """

    def __init__(self, app: FastAPI, ui_prefix: str) -> None:
        self.app = app
        self.ui_prefix = ui_prefix.rstrip("/")
        self._pool: AsyncConnectionPool[Any] | None = None
        self._opening: asyncio.Lock | None = None

    def element_url(self, element_id: str) -> str:
        """Where the browser fetches a stored element (see `element_response`)."""
        return f"{self.ui_prefix}{ELEMENTS_PATH}/{element_id}"

    async def _open_pool(self) -> AsyncConnectionPool[Any]:
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool is not None:
                return self._pool
            services = getattr(self.app.state, "services", None)
            if not isinstance(services, Services) or not services.dsn:
                raise ThreadStoreUnavailable("the web chat history is not ready: services starting")
            timeout = services.settings.db_timeout_seconds
            pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
                services.dsn,
                min_size=1,
                max_size=POOL_MAX_SIZE,
                timeout=timeout,
                open=False,
                check=AsyncConnectionPool.check_connection,
                kwargs={"autocommit": True, "row_factory": dict_row},
            )
            await pool.open(wait=True, timeout=timeout)
            self._pool = pool
            return pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        """A pooled autocommit connection whose rows are dicts."""
        pool = self._pool or await self._open_pool()
        async with pool.connection() as conn:
            yield conn

    async def close(self) -> None:
        """Close the pool (the app is shutting down); a later call would open a new one."""
        pool, self._pool, self._opening = self._pool, None, None
        if pool is not None:
            await pool.close()

    async def element_content(self, element_id: str, user: str) -> tuple[bytes, str] | None:
        """A stored element's bytes and mime type, only for the owner of its thread."""
        async with self.connection() as conn:
            cursor = await conn.execute(
                """SELECT e.content, e.mime
                     FROM web_elements e
                     JOIN web_threads t ON t.id = e.thread_id
                     JOIN web_users u ON u.id = t.user_id
                    WHERE e.id = %s AND u.identifier = %s AND e.content IS NOT NULL""",
                (element_id, user),
            )
            row = await cursor.fetchone()
        if row is None:
            return None
        return bytes(row["content"]), str(row["mime"] or "application/octet-stream")


def store_of(app: Any) -> ThreadStore | None:
    """The thread store installed on an API app, if any."""
    store = getattr(getattr(app, "state", None), STORE_KEY, None)
    return store if isinstance(store, ThreadStore) else None


def current_store() -> ThreadStore | None:
    """The thread store of the app serving the current request or socket session."""
    return store_of(serving_app())


async def element_response(request: Request, element_id: str) -> Response:
    """A stored element (a chart's JSON) for the logged-in owner of its conversation.

    401 without a valid login cookie; 404 for an element that does not exist or belongs to
    somebody else, so other people's element ids are not even confirmed.
    """
    user = cookie_user(request.cookies)
    if user is None:
        return Response(status_code=401, content="not logged in to the web chat")
    store = store_of(request.app)
    if store is None:
        return Response(status_code=404)
    found = await store.element_content(element_id, user)
    if found is None:
        return Response(status_code=404)
    content, mime = found
    return Response(
        content,
        media_type=mime,
        headers={
            "Cache-Control": "private, max-age=86400",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


def install_thread_store(app: FastAPI, ui_prefix: str) -> ThreadStore:
    """Give `app` its thread store, the route serving stored elements, and close it at shutdown.

    Call before mounting the web chat at `ui_prefix`, so the route is matched before the mount.
    """
    store = ThreadStore(app, ui_prefix)
    setattr(app.state, STORE_KEY, store)
    app.add_api_route(
        f"{store.ui_prefix}{ELEMENTS_PATH}/{{element_id}}",
        element_response,
        methods=["GET"],
        include_in_schema=False,
    )
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(parent: Any) -> AsyncIterator[Any]:
        async with inner(parent) as state:
            try:
                yield state
            finally:
                await store.close()

    app.router.lifespan_context = lifespan
    return store


def _persisted_user(row: Mapping[str, Any]) -> PersistedUser:
    return PersistedUser(
        id=str(row["id"]),
        identifier=str(row["identifier"]),
        createdAt=_iso(row["created_at"]),
        metadata=dict(row["metadata"] or {}),
    )


def _step_dict(row: Mapping[str, Any]) -> StepDict:
    """A stored step as Chainlit reads it back: every field a message needs, then the stored ones."""
    created = _iso(row["created_at"])
    step: dict[str, Any] = {
        "id": str(row["id"]),
        "threadId": str(row["thread_id"]),
        "parentId": row["parent_id"],
        "type": row["type"],
        "name": "",
        "input": "",
        "output": "",
        "metadata": {},
        "createdAt": created,
        "start": created,
        "isError": False,
    }
    step.update(row["data"] or {})
    if row.get("feedback_id") is not None:
        step["feedback"] = FeedbackDict(
            forId=str(row["id"]),
            id=str(row["feedback_id"]),
            value=row["feedback_value"],
            comment=row["feedback_comment"],
        )
    return step  # type: ignore[return-value]


def _element_dict(row: Mapping[str, Any], store: ThreadStore) -> ElementDict:
    element: dict[str, Any] = dict(row["data"] or {})
    element.update(id=str(row["id"]), threadId=str(row["thread_id"]), forId=row["for_id"])
    element["mime"] = row["mime"]
    element["chainlitKey"] = None
    if row["has_content"]:
        element["url"] = store.element_url(str(row["id"]))
    return element  # type: ignore[return-value]


async def _element_bytes(element: Element) -> bytes | None:
    """The element's own bytes: its content, or its file read off the event loop; None for a URL."""
    if isinstance(element.content, bytes):
        return element.content
    if isinstance(element.content, str) and element.content:
        return element.content.encode("utf-8")
    if element.path:
        return await asyncio.to_thread(Path(element.path).read_bytes)
    return None


_THREAD_COLUMNS = sql.SQL(
    "t.id, t.name, t.user_id, t.metadata, t.tags, t.created_at, t.updated_at, "
    "u.identifier AS user_identifier"
)


class PostgresDataLayer(BaseDataLayer):
    """Chainlit's `BaseDataLayer` on the web chat tables of the serving app's database."""

    def __init__(self, stores: Callable[[], ThreadStore | None] = current_store) -> None:
        self._stores = stores

    def _store(self) -> ThreadStore:
        store = self._stores()
        if store is None:
            raise ThreadStoreUnavailable(
                "the web chat history is only available when the chat is served by the API"
            )
        return store

    # users

    async def get_user(self, identifier: str) -> PersistedUser | None:
        """The stored user with this identifier (None before their first login)."""
        async with self._store().connection() as conn:
            cursor = await conn.execute(
                "SELECT id, identifier, metadata, created_at FROM web_users WHERE identifier = %s",
                (identifier,),
            )
            row = await cursor.fetchone()
        return _persisted_user(row) if row else None

    async def create_user(self, user: User) -> PersistedUser | None:
        """Store the user at login (metadata refreshed each time); return the stored user."""
        async with self._store().connection() as conn:
            cursor = await conn.execute(
                """INSERT INTO web_users (id, identifier, metadata) VALUES (%s, %s, %s)
                   ON CONFLICT (identifier) DO UPDATE SET metadata = EXCLUDED.metadata
                   RETURNING id, identifier, metadata, created_at""",
                (uuid.uuid4(), user.identifier, _json(user.metadata or {})),
            )
            row = await cursor.fetchone()
        return _persisted_user(row) if row else None

    # feedback

    async def upsert_feedback(self, feedback: Feedback) -> str:
        """Record the thumbs up (1) or down (0) on a message; one per message, last one wins."""
        async with self._store().connection() as conn:
            cursor = await conn.execute(
                """INSERT INTO web_feedback (id, step_id, value, comment) VALUES (%s, %s, %s, %s)
                   ON CONFLICT (step_id) DO UPDATE
                       SET value = EXCLUDED.value, comment = EXCLUDED.comment
                   RETURNING id""",
                (
                    feedback.id or str(uuid.uuid4()),
                    feedback.forId,
                    int(feedback.value),
                    feedback.comment,
                ),
            )
            row = await cursor.fetchone()
        assert row is not None  # INSERT ... RETURNING always returns the row
        return str(row["id"])

    async def delete_feedback(self, feedback_id: str) -> bool:
        """Remove a feedback; True when there was one."""
        async with self._store().connection() as conn:
            cursor = await conn.execute("DELETE FROM web_feedback WHERE id = %s", (feedback_id,))
        return cursor.rowcount > 0

    # elements

    @queue_until_user_message()
    async def create_element(self, element: Element) -> None:
        """Store an element attached to a message (its bytes too, so it can be shown later)."""
        if not element.for_id or not element.thread_id:
            return  # not attached to a message of a thread: nothing could show it again
        content = await _element_bytes(element)
        data = {
            key: value
            for key, value in element.to_dict().items()
            if key not in _SESSION_ELEMENT_KEYS and value is not None
        }
        if content is not None:
            data.pop("url", None)
        async with self._store().connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO web_threads (id) VALUES (%s) ON CONFLICT (id) DO NOTHING",
                (element.thread_id,),
            )
            await conn.execute(
                """INSERT INTO web_elements (id, thread_id, for_id, data, mime, content)
                   VALUES (%s, %s, %s, %s, %s, %s)
                   ON CONFLICT (id) DO UPDATE SET for_id = EXCLUDED.for_id,
                       data = EXCLUDED.data, mime = EXCLUDED.mime, content = EXCLUDED.content""",
                (
                    element.id,
                    element.thread_id,
                    element.for_id,
                    _json(data),
                    element.mime,
                    content,
                ),
            )

    async def get_element(self, thread_id: str, element_id: str) -> ElementDict | None:
        """One element of a thread, with the URL its stored bytes are served from."""
        store = self._store()
        async with store.connection() as conn:
            cursor = await conn.execute(
                """SELECT id, thread_id, for_id, data, mime, content IS NOT NULL AS has_content
                     FROM web_elements WHERE id = %s AND thread_id = %s""",
                (element_id, thread_id),
            )
            row = await cursor.fetchone()
        return _element_dict(row, store) if row else None

    @queue_until_user_message()
    async def delete_element(self, element_id: str, thread_id: str | None = None) -> None:
        """Remove an element (only from `thread_id` when given)."""
        async with self._store().connection() as conn:
            if thread_id is None:
                await conn.execute("DELETE FROM web_elements WHERE id = %s", (element_id,))
            else:
                await conn.execute(
                    "DELETE FROM web_elements WHERE id = %s AND thread_id = %s",
                    (element_id, thread_id),
                )

    # steps (messages, tool calls, runs)

    @queue_until_user_message()
    async def create_step(self, step_dict: StepDict) -> None:
        """Store a new step (a message, a tool call or a run); see `_upsert_step`."""
        await self._upsert_step(step_dict)

    @queue_until_user_message()
    async def update_step(self, step_dict: StepDict) -> None:
        """Store a step's new state; see `_upsert_step`."""
        await self._upsert_step(step_dict)

    async def _upsert_step(self, step_dict: StepDict) -> None:
        """Upsert a step, merging its non-empty fields into what is stored.

        Chainlit sends creations and updates from separate tasks, so they may land in either
        order: merging only non-empty fields keeps the output and end time whichever comes last.
        A new user message also marks its thread as the most recently active one.
        """
        thread_id = step_dict.get("threadId")
        if not thread_id:
            log.warning("web chat step %s has no thread id: not stored", step_dict.get("id"))
            return
        data = {
            key: value
            for key, value in step_dict.items()
            if key not in _UNSTORED_STEP_KEYS and not _blank(value)
        }
        created_at = _parse_time(step_dict.get("createdAt") or step_dict.get("start"))
        async with self._store().connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO web_threads (id) VALUES (%s) ON CONFLICT (id) DO NOTHING",
                (thread_id,),
            )
            await conn.execute(
                """INSERT INTO web_steps AS s (id, thread_id, parent_id, type, created_at, data)
                   VALUES (%s, %s, %s, %s, %s, %s)
                   ON CONFLICT (id) DO UPDATE SET
                       parent_id = COALESCE(EXCLUDED.parent_id, s.parent_id),
                       type = EXCLUDED.type,
                       created_at = LEAST(EXCLUDED.created_at, s.created_at),
                       data = s.data || EXCLUDED.data""",
                (
                    step_dict["id"],
                    thread_id,
                    step_dict.get("parentId"),
                    step_dict.get("type") or "undefined",
                    created_at,
                    _json(data),
                ),
            )
            if step_dict.get("type") == "user_message":
                await conn.execute(
                    "UPDATE web_threads SET updated_at = now() WHERE id = %s", (thread_id,)
                )

    @queue_until_user_message()
    async def delete_step(self, step_id: str) -> None:
        """Remove a step with its elements (its feedback goes with it)."""
        async with self._store().connection() as conn, conn.transaction():
            await conn.execute("DELETE FROM web_elements WHERE for_id = %s", (step_id,))
            await conn.execute("DELETE FROM web_steps WHERE id = %s", (step_id,))

    async def get_favorite_steps(self, user_id: str) -> list[StepDict]:
        """The user's messages marked as favourite, newest first."""
        async with self._store().connection() as conn:
            cursor = await conn.execute(
                """SELECT s.id, s.thread_id, s.parent_id, s.type, s.created_at, s.data
                     FROM web_steps s JOIN web_threads t ON t.id = s.thread_id
                    WHERE t.user_id = %s AND s.data -> 'metadata' ->> 'favorite' = 'true'
                    ORDER BY s.created_at DESC, s.seq DESC""",
                (uuid.UUID(user_id),),
            )
            rows = await cursor.fetchall()
        return [_step_dict(row) for row in rows]

    # threads

    async def get_thread_author(self, thread_id: str) -> str:
        """The identifier of the thread's user ("" when the thread or its user is unknown)."""
        async with self._store().connection() as conn:
            cursor = await conn.execute(
                """SELECT u.identifier FROM web_threads t JOIN web_users u ON u.id = t.user_id
                    WHERE t.id = %s""",
                (thread_id,),
            )
            row = await cursor.fetchone()
        return str(row["identifier"]) if row else ""

    async def delete_thread(self, thread_id: str) -> None:
        """Delete a conversation and make the assistant forget it (its checkpointed memory)."""
        store = self._store()
        async with store.connection() as conn:
            await conn.execute("DELETE FROM web_threads WHERE id = %s", (thread_id,))
        services = started_services(store.app)
        memory = services.memory if services is not None else None
        if isinstance(memory, ThreadMemory):
            await memory.saver.adelete_thread(thread_id)

    async def list_threads(
        self, pagination: Pagination, filters: ThreadFilter
    ) -> PaginatedResponse[ThreadDict]:
        """One page of a user's conversations, most recently active first.

        Without a user filter the page is empty: nobody lists everyone's conversations.
        """
        empty = PaginatedResponse[ThreadDict](
            pageInfo=PageInfo(hasNextPage=False, startCursor=None, endCursor=None), data=[]
        )
        if not filters.userId:
            return empty
        conditions = [sql.SQL("t.user_id = %(user_id)s")]
        params: dict[str, Any] = {
            "user_id": uuid.UUID(filters.userId),
            "limit": pagination.first + 1,
        }
        if filters.search:
            escaped = filters.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(sql.SQL("t.name ILIKE %(search)s"))
            params["search"] = f"%{escaped}%"
        if filters.feedback is not None:
            conditions.append(
                sql.SQL(
                    "EXISTS (SELECT 1 FROM web_feedback f JOIN web_steps s ON s.id = f.step_id "
                    "WHERE s.thread_id = t.id AND f.value = %(feedback)s)"
                )
            )
            params["feedback"] = int(filters.feedback)
        if pagination.cursor:
            conditions.append(
                sql.SQL(
                    "(t.updated_at, t.id) < "
                    "(SELECT updated_at, id FROM web_threads WHERE id = %(cursor)s)"
                )
            )
            params["cursor"] = pagination.cursor
        query = sql.SQL(
            "SELECT {columns} FROM web_threads t LEFT JOIN web_users u ON u.id = t.user_id "
            "WHERE {conditions} ORDER BY t.updated_at DESC, t.id DESC LIMIT %(limit)s"
        ).format(columns=_THREAD_COLUMNS, conditions=sql.SQL(" AND ").join(conditions))
        async with self._store().connection() as conn:
            cursor = await conn.execute(query, params)
            rows = await cursor.fetchall()
        has_next = len(rows) > pagination.first
        threads = [self._thread_dict(row, row["updated_at"]) for row in rows[: pagination.first]]
        if not threads:
            return empty
        return PaginatedResponse(
            pageInfo=PageInfo(
                hasNextPage=has_next,
                startCursor=threads[0]["id"],
                endCursor=threads[-1]["id"],
            ),
            data=threads,
        )

    async def get_thread(self, thread_id: str) -> ThreadDict | None:
        """A whole conversation: its steps in order (with feedback) and its elements."""
        store = self._store()
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
                """SELECT id, thread_id, for_id, data, mime, content IS NOT NULL AS has_content
                     FROM web_elements WHERE thread_id = %s""",
                (thread_id,),
            )
            elements = await cursor.fetchall()
        thread = self._thread_dict(row, row["created_at"])
        thread["steps"] = [_step_dict(step) for step in steps]
        thread["elements"] = [_element_dict(element, store) for element in elements]
        return thread

    async def update_thread(
        self,
        thread_id: str,
        name: str | None = None,
        user_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        tags: list[str] | None = None,
    ) -> None:
        """Create or update a thread: name, tags, metadata merged (a None value deletes a key).

        The first user to own a thread keeps it: a later `user_id` never moves it to another.
        """
        incoming = dict(metadata or {})
        if name is None and isinstance(incoming.get("name"), str):
            name = incoming["name"]
        dropped = [key for key, value in incoming.items() if value is None]
        kept = {key: value for key, value in incoming.items() if value is not None}
        async with self._store().connection() as conn:
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

    @staticmethod
    def _thread_dict(row: Mapping[str, Any], shown_time: datetime) -> ThreadDict:
        return ThreadDict(
            id=str(row["id"]),
            createdAt=_iso(shown_time),
            name=row["name"],
            userId=str(row["user_id"]) if row["user_id"] else None,
            userIdentifier=row["user_identifier"],
            tags=list(row["tags"] or []),
            metadata=dict(row["metadata"] or {}),
            steps=[],
            elements=[],
        )

    async def build_debug_url(self) -> str:
        """No external trace viewer: LangSmith traces are reached from the agent, not here."""
        return ""

    async def close(self) -> None:
        """Nothing to close here: each app's pool closes with its app (`install_thread_store`)."""
