"""Chainlit's `BaseDataLayer` on the web chat tables, so web conversations persist.

With it Chainlit lists a user's past conversations in the sidebar, redisplays one (messages,
tool steps, charts) and resumes it on the same thread id, which is also the agent's memory key.
`PostgresDataLayer` passes what Chainlit stores to the statements of the agent's web history, and turns
their rows back into Chainlit's dicts (`ui.thread_records`), on the `ThreadStore` of the app
serving the current call.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chainlit.data.base import BaseDataLayer
from chainlit.data.utils import queue_until_user_message
from chainlit.types import (
    Feedback,
    PageInfo,
    PaginatedResponse,
    Pagination,
    ThreadDict,
    ThreadFilter,
)
from chainlit.user import PersistedUser, User

from agent.errors import InvalidRequestError
from agent.graph.memory import ThreadMemory
from agent.services import web_history
from agent.services.web_history import statements
from ui.scope import started_services
from ui.thread_records import (
    element_bytes,
    element_data,
    element_from_row,
    parse_time,
    step_data,
    step_from_row,
    thread_from_row,
    user_from_row,
)
from ui.thread_store import ThreadStore, ThreadStoreUnavailable, current_store

if TYPE_CHECKING:
    from chainlit.element import Element, ElementDict
    from chainlit.step import StepDict

log = logging.getLogger(__name__)
MAX_PAGE_SIZE = 200


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
        row = await statements.user(self._store(), identifier)
        return user_from_row(row) if row else None

    async def create_user(self, user: User) -> PersistedUser | None:
        """Store the user at login (metadata refreshed each time); return the stored user."""
        row = await statements.save_user(self._store(), user.identifier, user.metadata or {})
        return user_from_row(row) if row else None

    # feedback

    async def upsert_feedback(self, feedback: Feedback) -> str:
        """Record the thumbs up (1) or down (0) on a message; one per message, last one wins."""
        return await statements.save_feedback(
            self._store(),
            feedback.id or str(uuid.uuid4()),
            feedback.forId,
            int(feedback.value),
            feedback.comment,
        )

    async def delete_feedback(self, feedback_id: str) -> bool:
        """Remove a feedback; True when there was one."""
        return await statements.delete_feedback(self._store(), feedback_id)

    # elements

    @queue_until_user_message()
    async def create_element(self, element: Element) -> None:
        """Store an element attached to a message (its bytes too, so it can be shown later)."""
        if not element.for_id or not element.thread_id:
            return  # not attached to a message of a thread: nothing could show it again
        content = await element_bytes(element)
        data = element_data(element, has_content=content is not None)
        await statements.save_element(
            self._store(),
            element.id,
            element.thread_id,
            element.for_id,
            data,
            element.mime,
            content,
        )

    async def get_element(self, thread_id: str, element_id: str) -> ElementDict | None:
        """One element of a thread, with the URL its stored bytes are served from."""
        store = self._store()
        row = await statements.element(store, thread_id, element_id)
        return element_from_row(row, store) if row else None

    @queue_until_user_message()
    async def delete_element(self, element_id: str, thread_id: str | None = None) -> None:
        """Remove an element (only from `thread_id` when given)."""
        await statements.delete_element(self._store(), element_id, thread_id)

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
        data = step_data(step_dict)
        created_at = parse_time(step_dict.get("createdAt") or step_dict.get("start"))
        await statements.save_step(
            self._store(),
            step_dict["id"],
            thread_id,
            step_dict.get("parentId"),
            step_dict.get("type") or "undefined",
            created_at,
            data,
        )

    @queue_until_user_message()
    async def delete_step(self, step_id: str) -> None:
        """Remove a step with its elements (its feedback goes with it)."""
        await statements.delete_step(self._store(), step_id)

    async def get_favorite_steps(self, user_id: str) -> list[StepDict]:
        """The user's messages marked as favourite, newest first."""
        rows = await statements.favorite_steps(self._store(), user_id)
        return [step_from_row(row) for row in rows]

    # threads

    async def get_thread_author(self, thread_id: str) -> str:
        """The identifier of the thread's user ("" when the thread or its user is unknown)."""
        return await statements.thread_author(self._store(), thread_id)

    async def delete_thread(self, thread_id: str) -> None:
        """Delete a conversation and make the assistant forget it (its checkpointed memory)."""
        store = self._store()
        await web_history.delete_thread(store, thread_id)
        services = started_services(store.app)
        memory = services.memory if services is not None else None
        if isinstance(memory, ThreadMemory):
            await memory.saver.adelete_thread(thread_id)

    async def list_threads(
        self, pagination: Pagination, filters: ThreadFilter
    ) -> PaginatedResponse[ThreadDict]:
        """One page of a user's conversations, most recently active first.

        Without a user filter the page is empty: nobody lists everyone's conversations.
        A page size outside 0..MAX_PAGE_SIZE is refused (422).
        """
        empty = PaginatedResponse[ThreadDict](
            pageInfo=PageInfo(hasNextPage=False, startCursor=None, endCursor=None), data=[]
        )
        if not 0 <= pagination.first <= MAX_PAGE_SIZE:
            raise InvalidRequestError(f"pagination.first must be 0 to {MAX_PAGE_SIZE}")
        if not filters.userId:
            return empty
        rows = await statements.thread_page(
            self._store(),
            filters.userId,
            pagination.first + 1,
            filters.search,
            filters.feedback,
            pagination.cursor,
        )
        has_next = len(rows) > pagination.first
        threads = [thread_from_row(row, row["updated_at"]) for row in rows[: pagination.first]]
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
        found = await statements.thread(store, thread_id)
        if found is None:
            return None
        row, steps, elements = found
        thread = thread_from_row(row, row["created_at"])
        thread["steps"] = [step_from_row(step) for step in steps]
        thread["elements"] = [element_from_row(element, store) for element in elements]
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
        await statements.save_thread(self._store(), thread_id, name, user_id, kept, dropped, tags)

    async def build_debug_url(self) -> str:
        """No external trace viewer: LangSmith traces are reached from the agent, not here."""
        return ""

    async def close(self) -> None:
        """Nothing to close here: each app's pool closes with its app (`install_thread_store`)."""
