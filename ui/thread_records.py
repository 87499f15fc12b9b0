"""What of Chainlit's steps and elements is stored, and Chainlit's dicts rebuilt from the rows.

Chainlit sends a step's creation and updates from separate tasks, so only its non-empty fields
are stored (merged into what is there, see the `save_step` statement of `knowledge.web_threads`). An element keeps its
bytes in the row and is shown again from the web chat's own URL (`ThreadStore.element_url`),
because Chainlit's file URLs only live as long as the browser session that produced them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chainlit.types import FeedbackDict, ThreadDict
from chainlit.user import PersistedUser

from ui.thread_store import ThreadStore

if TYPE_CHECKING:
    from chainlit.element import Element, ElementDict
    from chainlit.step import StepDict

# transient (streaming) or stored in their own table (feedback), never in a step's data
_UNSTORED_STEP_KEYS = frozenset({"streaming", "feedback"})
# belong to the browser session that sent the element, meaningless once it has gone
_SESSION_ELEMENT_KEYS = frozenset({"chainlitKey", "path", "objectKey"})


def _blank(value: Any) -> bool:
    """Whether a field carries nothing a later write should keep (None, False, "", {}, [])."""
    return value is None or value is False or (isinstance(value, str | dict | list) and not value)


def _iso(moment: datetime) -> str:
    """Chainlit's timestamp format: naive UTC ISO time with a trailing Z."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def parse_time(text: Any) -> datetime:
    """A step's ISO time (Chainlit writes `...Z`), or now when it has none or is unreadable."""
    if isinstance(text, str) and text:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return datetime.now(UTC)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)


def step_data(step: StepDict) -> dict[str, Any]:
    """The fields of a step worth storing: the non-empty ones, neither transient nor feedback."""
    return {
        key: value
        for key, value in step.items()
        if key not in _UNSTORED_STEP_KEYS and not _blank(value)
    }


def element_data(element: Element, has_content: bool) -> dict[str, Any]:
    """An element's fields without the browser session's keys (nor its URL when it has bytes)."""
    data = {
        key: value
        for key, value in element.to_dict().items()
        if key not in _SESSION_ELEMENT_KEYS and value is not None
    }
    if has_content:
        data.pop("url", None)
    return data


async def element_bytes(element: Element) -> bytes | None:
    """The element's own bytes: its content, or its file read off the event loop; None for a URL."""
    if isinstance(element.content, bytes):
        return element.content
    if isinstance(element.content, str) and element.content:
        return element.content.encode("utf-8")
    if element.path:
        return await asyncio.to_thread(Path(element.path).read_bytes)
    return None


def user_from_row(row: Mapping[str, Any]) -> PersistedUser:
    """A stored user as Chainlit knows a logged-in user."""
    return PersistedUser(
        id=str(row["id"]),
        identifier=str(row["identifier"]),
        createdAt=_iso(row["created_at"]),
        metadata=dict(row["metadata"] or {}),
    )


def step_from_row(row: Mapping[str, Any]) -> StepDict:
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


def element_from_row(row: Mapping[str, Any], store: ThreadStore) -> ElementDict:
    """A stored element as Chainlit shows it, its bytes fetched from the store's URL."""
    element: dict[str, Any] = dict(row["data"] or {})
    element.update(id=str(row["id"]), threadId=str(row["thread_id"]), forId=row["for_id"])
    element["mime"] = row["mime"]
    element["chainlitKey"] = None
    if row["has_content"]:
        element["url"] = store.element_url(str(row["id"]))
    return element  # type: ignore[return-value]


def thread_from_row(row: Mapping[str, Any], shown_time: datetime) -> ThreadDict:
    """A stored thread, without its steps and elements, dated `shown_time`."""
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
