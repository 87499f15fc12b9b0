"""Alert state in Postgres (`alert_state`): which conditions are active and what message is owed.

Why the store decides before the notifier sends: in one transaction the rows of the checked
conditions are locked (INSERT ... ON CONFLICT DO NOTHING, then SELECT ... FOR UPDATE, both in
key order so two checkers cannot deadlock), the caller's `decide` picks the message each row
owes, and the row records it as pending under a claim (a token and a lease); the transaction
commits, and only the claimant sends. A second worker checking at the same moment waits on the
locks, then finds the transition recorded and its message claimed, and sends nothing. After
sending, `finish` records the channels that took the message; a failed channel leaves it
pending and unclaimed, so the next check retries it (to that channel only). A worker that dies
mid-send leaves a claim that expires with its lease, and the message goes out then.

Sending first and recording after would let two workers both see an unrecorded transition and
both send it; here the only repeat possible is one message after a crash between delivery and
`finish`, the price of never losing one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from knowledge.database import Database

_COLUMNS = (
    "condition_key, active, message, first_seen, last_sent, cleared_at, pending_kind, "
    "pending_text, delivered, claim, claimed_until, attempts, last_error"
)


@dataclass(frozen=True)
class AlertState:
    """One condition's row. `last_sent` is when its latest message was handed to the notifier
    (the cooldown counts from there); `pending_*` is a message not yet delivered everywhere."""

    key: str
    active: bool
    message: str
    first_seen: datetime
    last_sent: datetime | None = None
    cleared_at: datetime | None = None
    pending_kind: str | None = None  # raised, reminder or cleared
    pending_text: str | None = None
    delivered: frozenset[str] = field(default_factory=frozenset)
    claim: str | None = None
    claimed_until: datetime | None = None
    attempts: int = 0
    last_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """For status pages: the state without the claim token."""
        return {
            "key": self.key,
            "active": self.active,
            "message": self.message,
            "first_seen": self.first_seen.isoformat(),
            "last_sent": self.last_sent.isoformat() if self.last_sent else None,
            "cleared_at": self.cleared_at.isoformat() if self.cleared_at else None,
            "pending": self.pending_kind,
            "attempts": self.attempts,
            "last_error": self.last_error,
        }


#: decide(key, current row or None) -> the new row, or None to leave it as it is
Decide = Callable[[str, AlertState | None], AlertState | None]


def _state(row: Sequence[Any]) -> AlertState:
    values = list(row)
    values[8] = frozenset(values[8] or ())
    return AlertState(*values)


class AlertStore:
    """Reads and writes `alert_state`; `transition` is the one place a message gets decided."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def transition(
        self, keys: Collection[str], create: Collection[str], decide: Decide
    ) -> list[AlertState]:
        """Lock the rows of `keys` (creating an inactive row for each key in `create` that has
        none), apply `decide` to each and write the changes, in one transaction. Returns the
        new states that carry a claim made now: the messages this caller must send."""
        wanted = sorted(set(keys) | set(create))
        claimed: list[AlertState] = []
        with self.db.connection() as conn, conn.transaction():
            for key in sorted(set(create)):
                conn.execute(
                    "INSERT INTO alert_state (condition_key, active, first_seen) "
                    "VALUES (%s, false, now()) ON CONFLICT (condition_key) DO NOTHING",
                    (key,),
                )
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM alert_state WHERE condition_key = ANY(%s) "
                "ORDER BY condition_key FOR UPDATE",
                (wanted,),
            ).fetchall()
            current = {row[0]: _state(row) for row in rows}
            for key in wanted:
                old = current.get(key)
                new = decide(key, old)
                if new is None or new == old:
                    continue
                self._write(conn, new)
                if new.claim is not None and new.claim != (old.claim if old else None):
                    claimed.append(new)
        return claimed

    @staticmethod
    def _write(conn: Any, state: AlertState) -> None:
        conn.execute(
            f"""INSERT INTO alert_state ({_COLUMNS}) VALUES
                    (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (condition_key) DO UPDATE SET active = excluded.active,
                    message = excluded.message, first_seen = excluded.first_seen,
                    last_sent = excluded.last_sent, cleared_at = excluded.cleared_at,
                    pending_kind = excluded.pending_kind, pending_text = excluded.pending_text,
                    delivered = excluded.delivered, claim = excluded.claim,
                    claimed_until = excluded.claimed_until, attempts = excluded.attempts,
                    last_error = excluded.last_error, updated_at = now()""",
            (
                state.key,
                state.active,
                state.message,
                state.first_seen,
                state.last_sent,
                state.cleared_at,
                state.pending_kind,
                state.pending_text,
                sorted(state.delivered),
                state.claim,
                state.claimed_until,
                state.attempts,
                state.last_error,
            ),
        )

    def finish(self, key: str, claim: str, delivered: Collection[str], error: str | None) -> bool:
        """Record a send: with no error the message is done; otherwise the channels that took
        it are kept and the claim released, so the next check retries the rest. False when
        the claim is no longer this caller's (a newer message replaced it)."""
        channels = sorted(set(delivered))
        with self.db.connection() as conn:
            if error is None:
                cur = conn.execute(
                    """UPDATE alert_state SET pending_kind = NULL, pending_text = NULL,
                           delivered = '{}', claim = NULL, claimed_until = NULL, attempts = 0,
                           last_error = NULL, updated_at = now()
                       WHERE condition_key = %s AND claim = %s""",
                    (key, claim),
                )
            else:
                cur = conn.execute(
                    """UPDATE alert_state SET
                           delivered = ARRAY(SELECT DISTINCT unnest(delivered || %s::text[])
                                             ORDER BY 1),
                           claim = NULL, claimed_until = NULL, attempts = attempts + 1,
                           last_error = %s, updated_at = now()
                       WHERE condition_key = %s AND claim = %s""",
                    (channels, error[:2000], key, claim),
                )
            return cur.rowcount == 1

    def get(self, key: str) -> AlertState | None:
        """One condition's state, if it was ever active."""
        with self.db.connection() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM alert_state WHERE condition_key = %s", (key,)
            ).fetchone()
        return _state(row) if row else None

    def states(self, *, active_only: bool = False) -> list[AlertState]:
        """Every condition's state (only the active ones when asked), by key."""
        where = "WHERE active" if active_only else ""
        with self.db.connection() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM alert_state {where} ORDER BY condition_key"
            ).fetchall()
        return [_state(row) for row in rows]
