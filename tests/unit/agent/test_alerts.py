"""Alert decisions without services: the pure `decide`, the service on an in-memory store, the
regression rule, the condition builders and the notifier's configuration."""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from agent.services.alert_conditions import (
    MIN_POINTS,
    gather_conditions,
    job_conditions,
    ledger_points,
    regression,
    stale_condition,
)
from agent.services.alerts import AlertService, Condition, decide
from agent.services.notify import Notifier, NotifyError, alert_urls, build_notifier
from agent.settings import load_settings
from knowledge.alerts import AlertState, Decide

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
COOLDOWN = timedelta(hours=6)
UP = Condition("drift:BTC-USD", True, "drift BTC-USD: champion v1 drifted.")
DOWN = Condition("drift:BTC-USD", False, "drift BTC-USD: champion v1 shows no drift now.")


class MemoryStore:
    """`knowledge.alerts.AlertStore` in memory: one lock stands for the row locks."""

    def __init__(self) -> None:
        self.rows: dict[str, AlertState] = {}
        self.lock = threading.Lock()

    def transition(
        self, keys: Collection[str], create: Collection[str], decide: Decide
    ) -> list[AlertState]:
        claimed = []
        with self.lock:
            for key in sorted(set(keys) | set(create)):
                old = self.rows.get(key)
                new = decide(key, old)
                if new is None or new == old:
                    continue
                self.rows[key] = new
                if new.claim is not None and new.claim != (old.claim if old else None):
                    claimed.append(new)
        return claimed

    def finish(self, key: str, claim: str, delivered: Collection[str], error: str | None) -> bool:
        with self.lock:
            row = self.rows[key]
            if row.claim != claim:
                return False
            if error is None:
                self.rows[key] = AlertState(
                    row.key, row.active, row.message, row.first_seen, row.last_sent, row.cleared_at
                )
            else:
                done = row.delivered | set(delivered)
                self.rows[key] = AlertState(
                    **{**row.__dict__, "delivered": done, "claim": None, "claimed_until": None}
                    | {"attempts": row.attempts + 1, "last_error": error}
                )
            return True

    def states(self, *, active_only: bool = False) -> list[AlertState]:
        return [s for s in self.rows.values() if s.active or not active_only]


@dataclass
class Recorder:
    """A channel that keeps what it was sent; `fail` makes it refuse."""

    name: str
    fail: bool = False
    texts: list[str] = field(default_factory=list)

    def send(self, title: str, text: str, kind: str) -> None:
        if self.fail:
            raise NotifyError(f"{self.name} is down")
        self.texts.append(text)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def _service(*channels: Recorder) -> tuple[AlertService, MemoryStore, Clock]:
    store, clock = MemoryStore(), Clock()
    return AlertService(store, Notifier(channels), cooldown=COOLDOWN, clock=clock), store, clock


def _decide(state: AlertState | None, condition: Condition, now: datetime) -> AlertState | None:
    return decide(state, condition, now=now, cooldown=COOLDOWN, token=f"t{now.timestamp()}")


def _done(state: AlertState) -> AlertState:
    """The state once its message was delivered everywhere."""
    return AlertState(
        **{**state.__dict__, "pending_kind": None, "pending_text": None}
        | {"claim": None, "claimed_until": None}
    )


def test_decide_raises_reminds_after_the_cooldown_and_clears() -> None:
    raised = _decide(None, UP, T0)
    assert raised is not None and raised.pending_kind == "raised" and raised.active
    assert raised.pending_text == "ALERT drift BTC-USD: champion v1 drifted."
    state = _done(raised)
    assert _decide(state, UP, T0 + timedelta(hours=5, minutes=59)) is None
    reminder = _decide(state, UP, T0 + COOLDOWN)
    assert reminder is not None and reminder.pending_kind == "reminder"
    assert reminder.pending_text is not None
    assert reminder.pending_text.startswith("STILL ACTIVE since 2025-03-01 12:00 UTC: drift")
    state = _done(reminder)
    cleared = _decide(state, DOWN, T0 + COOLDOWN + timedelta(minutes=1))
    assert cleared is not None and not cleared.active and cleared.pending_kind == "cleared"
    assert cleared.pending_text == "CLEARED drift BTC-USD: champion v1 shows no drift now."
    assert cleared.first_seen == T0 and cleared.cleared_at is not None
    assert _decide(_done(cleared), DOWN, T0 + 2 * COOLDOWN) is None
    again = _decide(_done(cleared), UP, T0 + 2 * COOLDOWN)
    assert again is not None and again.pending_kind == "raised"
    assert again.first_seen == T0 + 2 * COOLDOWN and again.cleared_at is None


def test_an_inactive_condition_never_seen_writes_nothing() -> None:
    assert _decide(None, DOWN, T0) is None


def test_a_live_claim_blocks_reminders_and_retries_until_its_lease_ends() -> None:
    raised = _decide(None, UP, T0)
    assert raised is not None and raised.claimed_until == T0 + timedelta(minutes=5)
    assert _decide(raised, UP, T0 + timedelta(minutes=4)) is None  # another worker sends it
    retry = _decide(raised, UP, T0 + timedelta(minutes=6))  # that worker died: send it now
    assert retry is not None and retry.pending_kind == "raised" and retry.claim != raised.claim
    assert retry.last_sent == T0  # a retry does not move the cooldown


def test_the_service_sends_once_per_transition_and_once_per_cooldown() -> None:
    telegram, hook = Recorder("telegram:1"), Recorder("url:abc")
    service, store, clock = _service(telegram, hook)
    assert [m.kind for m in service.process([UP])] == ["raised"]
    for minutes in (1, 60, 359):
        clock.now = T0 + timedelta(minutes=minutes)
        assert service.process([UP]) == []
    clock.now = T0 + COOLDOWN
    assert [m.kind for m in service.process([UP])] == ["reminder"]
    clock.now += timedelta(minutes=10)
    assert service.process([UP]) == []
    assert [m.kind for m in service.process([DOWN])] == ["cleared"]
    assert service.process([DOWN]) == []
    assert telegram.texts == hook.texts and len(hook.texts) == 3
    assert store.rows[UP.key].cleared_at == clock.now


def test_a_failed_channel_is_retried_alone_at_the_next_check() -> None:
    telegram, hook = Recorder("telegram:1"), Recorder("url:abc", fail=True)
    service, store, clock = _service(telegram, hook)
    (first,) = service.process([UP])
    assert first.delivered == ("telegram:1",) and "url:abc" in first.errors and not first.ok
    row = store.rows[UP.key]
    assert row.pending_kind == "raised" and row.attempts == 1 and "down" in (row.last_error or "")
    clock.now += timedelta(minutes=10)
    assert service.process([UP])[0].errors  # still down: still owed
    hook.fail = False
    clock.now += timedelta(minutes=10)
    (retry,) = service.process([UP])
    assert retry.delivered == ("url:abc",) and retry.ok
    assert len(telegram.texts) == 1 and hook.texts == telegram.texts
    assert store.rows[UP.key].pending_kind is None
    clock.now += timedelta(minutes=10)
    assert service.process([UP]) == []


def test_a_clear_replaces_a_message_never_delivered() -> None:
    hook = Recorder("url:abc", fail=True)
    service, _, clock = _service(hook)
    service.process([UP])
    hook.fail = False
    clock.now += timedelta(minutes=10)
    assert [m.kind for m in service.process([DOWN])] == ["cleared"]
    assert hook.texts == ["CLEARED drift BTC-USD: champion v1 shows no drift now."]


def test_many_checks_at_once_send_one_message() -> None:
    hook = Recorder("url:abc")
    service, _, _ = _service(hook)
    barrier = threading.Barrier(8)
    results: list[int] = []

    def check() -> None:
        barrier.wait()
        results.append(len(service.process([UP])))

    threads = [threading.Thread(target=check) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0] * 7 + [1] and len(hook.texts) == 1


def test_without_channels_a_message_counts_as_sent() -> None:
    service, store, _ = _service()
    (message,) = service.process([UP])
    assert message.ok and message.delivered == () and store.rows[UP.key].pending_kind is None


def _points(n: int, model_share: float | list[float], seed: int = 1) -> list[Any]:
    """(actual, predicted, naive) with |model error| = model_share * |naive error| (one share
    for every point, or one per point)."""
    rng = np.random.default_rng(seed)
    naive = 100 + rng.normal(0, 1, n)
    naive_error = rng.choice([-1, 1], n) * rng.uniform(1, 3, n)
    actual = naive + naive_error
    share = np.resize(np.asarray(model_share, dtype=float), n)
    predicted = actual - rng.choice([-1, 1], n) * share * np.abs(naive_error)
    return list(zip(actual, predicted, naive, strict=True))


def test_regression_rule() -> None:
    assert regression(_points(MIN_POINTS - 1, 2.0), 0.3) is None  # too few to judge
    worse = regression(_points(40, 1.3), 0.3)
    assert worse is not None and worse.versus == "naive" and worse.skill == pytest.approx(-0.3)
    below = regression(_points(40, 0.9), 0.5)  # beats naive, far below its evaluation
    assert below is not None and below.versus == "walk-forward"
    assert regression(_points(40, 0.9), 0.15).versus is None  # type: ignore[union-attr]
    assert regression(_points(40, 0.6), None).versus is None  # type: ignore[union-attr]
    # 8% worse than naive on average, but from very good and very bad days: not "clearly"
    noisy = regression(_points(30, [0.2, 1.96]), None)
    assert noisy is not None and noisy.skill < -0.05 and noisy.versus is None
    steady = regression(_points(30, [1.06, 1.1]), None)  # the same mean, every day: clearly
    assert steady is not None and steady.versus == "naive"


def test_ledger_points_keep_one_version_and_space_longer_horizons() -> None:
    rows = [
        {
            "model_version": v,
            "horizon": h,
            "origin_date": date(2025, 1, d),
            "actual": 2.0,
            "predicted": 1.0,
            "origin_close": 1.5,
        }
        for v in (1, 2)
        for h in (1, 7)
        for d in range(1, 29)
    ] + [
        {
            "model_version": 2,
            "horizon": 1,
            "origin_date": date(2025, 1, 29),
            "actual": None,
            "predicted": 1.0,
            "origin_close": 1.0,
        }
    ]
    assert len(ledger_points(rows, 2, 1)) == 28
    assert len(ledger_points(rows, 2, 7)) == 4  # origins 28, 21, 14, 7
    assert ledger_points(rows, 3, 1) == []


def test_job_conditions() -> None:
    out = {
        c.key: c for c in job_conditions({"market_refresh": 3, "news_refresh": 2, "backup": 1}, 3)
    }
    assert out["job_failures:market_refresh"].active
    assert "last 3 runs failed" in out["job_failures:market_refresh"].message
    assert not out["job_failures:news_refresh"].active
    assert out["backup"].active and "crypto-assistant db backup" in out["backup"].message
    assert "job_failures:backup" not in out
    assert not {c.key: c for c in job_conditions({}, 3)}["backup"].active


def test_stale_condition_names_the_series_and_what_to_do() -> None:
    fresh = SimpleNamespace(last_bar=T0, age_hours=40.0, reason="refresh failed: timeout")
    condition = stale_condition("ETH-USD", "1h", fresh, 36)
    assert condition.active and condition.key == "stale:ETH-USD:1h"
    assert "ETH-USD 1h" in condition.message and "refresh failed: timeout" in condition.message
    assert "crypto-assistant data refresh ETH-USD --interval 1h" in condition.message
    assert not stale_condition("ETH-USD", "1h", SimpleNamespace(age_hours=3.0), 36).active


def _stub_services(alerts: Any = None, broken: bool = False) -> Any:
    def drift(symbol: str) -> dict[str, Any]:
        if broken:
            raise RuntimeError("boom")
        return {"flag": False}

    champion = SimpleNamespace(symbol="BTC-USD", version=2, status="champion", metrics={})
    forecasts = SimpleNamespace(
        drift=drift,
        ledger=SimpleNamespace(score=lambda: 0, entries=lambda s, limit: []),
        registry=SimpleNamespace(versions=lambda: [champion]),
    )
    market = SimpleNamespace(stale_after=timedelta(hours=36), freshness=lambda *a: None)
    return SimpleNamespace(
        settings=SimpleNamespace(alert_job_failures=3),
        market=market,
        forecasts=forecasts,
        prices=SimpleNamespace(coverage=lambda: []),
        alerts=alerts,
    )


def test_gather_clears_vanished_subjects_but_not_failed_checks() -> None:
    active = ["drift:BTC-USD", "drift:DOGE-USD", "job_failures:gone"]
    conditions = gather_conditions(
        _stub_services(), consecutive_failures={"backup": 0}, active_keys=active
    )
    keys = {c.key: c for c in conditions}
    assert not keys["drift:BTC-USD"].active and not keys["regression:BTC-USD"].active
    assert not keys["drift:DOGE-USD"].active and "nothing left" in keys["drift:DOGE-USD"].message
    assert not keys["job_failures:gone"].active and not keys["backup"].active
    broken = gather_conditions(
        _stub_services(SimpleNamespace(active_keys=lambda: active), broken=True),
        consecutive_failures={},
    )
    assert "drift:BTC-USD" not in {c.key for c in broken}  # a failed check changes nothing


def test_alert_settings_and_channels() -> None:
    settings = load_settings(
        _env_file=None,
        alert_urls="json://127.0.0.1:9/a?x=1, mailtos://u:p@example.com?to=a@x.org,b@x.org",
        alert_telegram_chat_id=-100123,
        telegram_bot_token="1:tok",
    )
    assert "u:p@" not in repr(settings)
    assert alert_urls(settings) == [
        "json://127.0.0.1:9/a?x=1",
        "mailtos://u:p@example.com?to=a@x.org,b@x.org",
    ]
    names = build_notifier(settings).names
    assert names[0] == "telegram:-100123" and len(names) == 3 and names[1].startswith("url:")
    defaults = load_settings(_env_file=None)
    assert (defaults.alert_cooldown_minutes, defaults.alert_job_failures) == (360, 3)
    assert build_notifier(defaults).names == [] and defaults.alert_urls is None
