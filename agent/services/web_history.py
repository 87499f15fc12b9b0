"""The web chat's conversation history, for the web chat: the pool and statements of
`knowledge.web_threads`, reached through the agent as every front-end reaches the database.

A deleted web conversation takes the agent's memory of it along (its key in memory is the
chat service's, `thread_key("web", id)`).
"""

from __future__ import annotations

from agent.graph.chat import thread_key
from knowledge.web_threads import POOL_MAX_SIZE, Connections, WebThreadPool, statements
from knowledge.web_threads.statements import MAX_THREAD_NAME

__all__ = [
    "MAX_THREAD_NAME",
    "POOL_MAX_SIZE",
    "Connections",
    "WebThreadPool",
    "delete_thread",
    "statements",
]


async def delete_thread(store: Connections, thread_id: str) -> None:
    """Delete a web conversation with everything stored of it, the agent's memory included."""
    await statements.delete_thread(store, thread_id, thread_key("web", thread_id))
