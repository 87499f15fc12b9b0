"""Alerts: a condition sends one message when it starts, a reminder at most once per cooldown
while it lasts, and one "cleared" message when it ends.

`decide` is the whole policy, a pure function of (stored state, condition, now). The store
applies it under row locks and records the message as owed before anything is sent, then the
notifier sends and the store records who took it (see `knowledge.alerts` for why this order):
two workers checking at once send a transition once, and a failed send is retried at the next
check instead of being lost. The periodic worker task calls

    conditions = gather_conditions(services, consecutive_failures=store.consecutive_failures())
    sent = AlertService.from_settings(settings, db).process(conditions)
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from agent.services.alert_conditions import Condition, gather_conditions
from agent.services.notify import Notifier, build_notifier
from knowledge.alerts import AlertState, AlertStore, Decide

if TYPE_CHECKING:
    from agent.settings import Settings
    from knowledge.database import Database

__all__ = ["AlertService", "Condition", "SentMessage", "decide", "gather_conditions", "render"]
log = logging.getLogger(__name__)

#: how long a worker may take to send a claimed message before another one sends it instead
LEASE = timedelta(minutes=5)
TITLES = {"raised": "alert", "reminder": "still active", "cleared": "cleared"}


class StateStore(Protocol):
    """What the service needs of `knowledge.alerts.AlertStore` (tests use an in-memory one)."""

    def transition(
        self, keys: Collection[str], create: Collection[str], decide: Decide
    ) -> list[AlertState]: ...

    def finish(
        self, key: str, claim: str, delivered: Collection[str], error: str | None
    ) -> bool: ...

    def states(self, *, active_only: bool = False) -> list[AlertState]: ...


@dataclass(frozen=True)
class SentMessage:
    """One message this check sent: to which channels, and the errors of the others."""

    key: str
    kind: str
    text: str
    delivered: tuple[str, ...]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def render(kind: str, message: str, first_seen: datetime) -> str:
    """The text of a message: ALERT / STILL ACTIVE since ... / CLEARED, then the condition's."""
    if kind == "raised":
        return f"ALERT {message}"
    if kind == "reminder":
        return f"STILL ACTIVE since {first_seen:%Y-%m-%d %H:%M} UTC: {message}"
    return f"CLEARED {message}"


def decide(
    state: AlertState | None,
    condition: Condition,
    *,
    now: datetime,
    cooldown: timedelta,
    token: str,
    lease: timedelta = LEASE,
) -> AlertState | None:
    """The new state of one condition (None: unchanged). A message owed is `pending_*` under a
    claim (`token`) that only its claimant sends. Starts and clears always owe a message (it
    replaces an unsent older one); while active, a reminder once `cooldown` has passed since
    the last message; an unsent message is retried once no live claim holds it."""

    def owe(base: AlertState, kind: str, first_seen: datetime) -> AlertState:
        text = render(kind, base.message, first_seen)
        return replace(
            base,
            last_sent=now,
            pending_kind=kind,
            pending_text=text,
            delivered=frozenset(),
            claim=token,
            claimed_until=now + lease,
            attempts=0,
            last_error=None,
        )

    if condition.active and (state is None or not state.active):
        started = AlertState(condition.key, True, condition.message, first_seen=now)
        return owe(started, "raised", now)
    if state is None:
        return None
    if not condition.active and state.active:
        cleared = replace(
            state, active=False, cleared_at=now, message=condition.message or state.message
        )
        return owe(cleared, "cleared", state.first_seen)
    claimed = state.claim is not None and (state.claimed_until or now) > now
    if claimed:  # another worker is sending this condition's message right now
        return None
    if condition.active and (state.last_sent is None or now - state.last_sent >= cooldown):
        return owe(replace(state, message=condition.message), "reminder", state.first_seen)
    if state.pending_kind is not None:  # unsent (a failed channel, a crashed worker): retry
        return replace(state, claim=token, claimed_until=now + lease)
    if condition.active and condition.message != state.message:
        return replace(state, message=condition.message)
    return None


class AlertService:
    """Decides through the store, then sends through the notifier; safe to run in many workers."""

    def __init__(
        self,
        store: StateStore,
        notifier: Notifier,
        *,
        cooldown: timedelta = timedelta(minutes=360),
        lease: timedelta = LEASE,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.cooldown = cooldown
        self.lease = lease
        self.clock = clock or (lambda: datetime.now(UTC))

    @classmethod
    def from_settings(
        cls, settings: Settings, db: Database, *, clock: Callable[[], datetime] | None = None
    ) -> AlertService:
        """The service on `alert_state`, sending where the settings say."""
        return cls(
            AlertStore(db),
            build_notifier(settings),
            cooldown=timedelta(minutes=settings.alert_cooldown_minutes),
            clock=clock,
        )

    def process(self, conditions: Iterable[Condition]) -> list[SentMessage]:
        """Record each condition's state and send the messages owed; returns what was sent."""
        now = self.clock()
        wanted = {c.key: c for c in conditions}

        def pick(key: str, state: AlertState | None) -> AlertState | None:
            return decide(
                state,
                wanted[key],
                now=now,
                cooldown=self.cooldown,
                token=uuid.uuid4().hex,
                lease=self.lease,
            )

        active = [k for k, c in wanted.items() if c.active]
        claims = self.store.transition(list(wanted), active, pick)
        return [self._send(claim) for claim in claims]

    def _send(self, claim: AlertState) -> SentMessage:
        kind, text = claim.pending_kind or "raised", claim.pending_text or claim.message
        title = f"crypto-assistant {TITLES.get(kind, kind)}: {claim.key}"
        delivered, errors = self.notifier.send(title, text, kind, skip=claim.delivered)
        error = "; ".join(f"{name}: {e}" for name, e in errors.items()) or None
        log.warning(
            "alert %s (%s): %s%s", claim.key, kind, text, f" [not sent: {error}]" if error else ""
        )
        try:
            assert claim.claim is not None
            self.store.finish(claim.key, claim.claim, delivered, error)
        except Exception:  # the claim lapses with its lease and the message is sent again
            log.exception("could not record the alert sent for %s", claim.key)
        return SentMessage(claim.key, kind, text, tuple(delivered), errors)

    def active_keys(self) -> list[str]:
        """Keys of the conditions active now (so a vanished subject can be cleared)."""
        return [s.key for s in self.store.states(active_only=True)]

    def overview(self) -> list[dict[str, object]]:
        """Every condition ever active, for status pages and the CLI."""
        return [s.as_dict() for s in self.store.states()]
