"""The web chat's conversation history on the assistant's Postgres: users, threads, steps,
elements and feedback (the tables of `knowledge/migrations/0003_web_threads.sql`).

`WebThreadPool` holds the connections; `statements` holds every statement on those tables. The
web chat reaches both through the agent (`agent.services.web_history`).
"""

from knowledge.web_threads import statements
from knowledge.web_threads.pool import (
    POOL_MAX_SIZE,
    Connections,
    StoredValueError,
    WebThreadPool,
)

__all__ = ["POOL_MAX_SIZE", "Connections", "StoredValueError", "WebThreadPool", "statements"]
