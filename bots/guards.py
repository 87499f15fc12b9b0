"""What runs before any engine is touched: the allow-list, per-chat rate limits, per-chat turns."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass


class AllowList:
    """Telegram user ids allowed to use the bot; an empty list lets everyone in."""

    def __init__(self, user_ids: Iterable[int]) -> None:
        self.user_ids = frozenset(user_ids)

    def allows(self, user_id: int | None) -> bool:
        """True for a listed user, or for anyone when the list is empty (never for no user)."""
        if user_id is None:
            return False
        return not self.user_ids or user_id in self.user_ids


@dataclass(frozen=True)
class Decision:
    """The limiter's verdict: go ahead, or wait `retry_after` seconds (tell the user if `notify`)."""

    allowed: bool
    retry_after: float = 0.0
    notify: bool = False


class SlidingWindowLimiter:
    """At most `limit` events per key in any `window` seconds, kept in process memory.

    Refused events are not counted, so a chat is never locked out for longer than the window.
    `notify` is true for at most one refusal per key per window, so a flood of messages earns
    one polite reply rather than a flood of them.
    """

    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self.clock = clock
        self._events: dict[int, deque[float]] = {}
        self._notified: dict[int, float] = {}

    def _prune(self, now: float) -> None:
        horizon = now - self.window
        for key in list(self._events):
            events = self._events[key]
            while events and events[0] <= horizon:
                events.popleft()
            if not events:
                del self._events[key]
        for key in [k for k, at in self._notified.items() if at <= horizon]:
            del self._notified[key]

    def hit(self, key: int) -> Decision:
        """Record an event for `key` if the window has room; otherwise say how long to wait."""
        now = self.clock()
        self._prune(now)
        events = self._events.setdefault(key, deque())
        if len(events) < self.limit:
            events.append(now)
            return Decision(allowed=True)
        retry_after = max(events[0] + self.window - now, 0.0)
        notify = key not in self._notified
        if notify:
            self._notified[key] = now
        return Decision(allowed=False, retry_after=retry_after, notify=notify)


class ChatLocks:
    """One conversation turn at a time per chat, so a thread's memory sees turns in order."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._holders: dict[int, int] = {}

    @asynccontextmanager
    async def hold(self, chat_id: int) -> AsyncIterator[None]:
        """Wait for the chat's previous turn to finish; locks are dropped when nobody waits."""
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._holders[chat_id] = self._holders.get(chat_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._holders[chat_id] -= 1
            if self._holders[chat_id] == 0:
                del self._holders[chat_id]
                del self._locks[chat_id]

    def __len__(self) -> int:
        return len(self._locks)
