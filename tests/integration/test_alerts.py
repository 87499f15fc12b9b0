"""Alerts end to end on real Postgres: conditions built from the real services, decided in
`alert_state`, sent to the fake Telegram Bot API and to an apprise `json://` webhook on
127.0.0.1. Time is an injected clock, never a sleep."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import SecretStr

from agent.services.alerts import AlertService, SentMessage, gather_conditions
from agent.services.forecast import ForecastService
from agent.services.market import MarketService
from agent.settings import Settings
from knowledge.alerts import AlertStore
from knowledge.cache import make_cache
from knowledge.database import Database
from knowledge.market.repository import PriceRepository
from knowledge.migrations import apply_migrations
from knowledge.models.ledger import LedgerEntry, PredictionLedger
from knowledge.models.registry import ModelRegistry
from tests.fakes.http import FakeHTTPServer, QuietHandler, RecordingHTTPServer
from tests.fakes.telegram_server import FakeTelegram

pytestmark = pytest.mark.integration
ADMIN = -100777
COOLDOWN = timedelta(minutes=60)
TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


class _HookHandler(QuietHandler):
    server: FakeHTTPServer

    def do_POST(self) -> None:
        body = self.read_body()
        if self.server.fake.refuse():
            self.send_json(500, {"error": "down"})
            return
        self.server.fake._record({"path": self.path, **json.loads(body)})
        self.send_json(200, {"ok": True})


class Webhook(RecordingHTTPServer[dict[str, Any]]):
    """A webhook receiver; `down = True` answers 500 (nothing recorded) until set back."""

    def __init__(self) -> None:
        super().__init__(_HookHandler, name="fake-webhook")
        self.down = False

    def refuse(self) -> bool:
        return self.down

    @property
    def apprise_url(self) -> str:
        return self.base_url.replace("http://", "json://") + "/hooks/alerts"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Stack:
    """The real services `gather_conditions` reads, the alert service and the fakes."""

    settings: Settings
    db: Database
    prices: PriceRepository
    market: MarketService
    forecasts: ForecastService
    alerts: AlertService
    clock: Clock
    telegram: FakeTelegram
    webhook: Webhook
    failures: dict[str, int]

    def check(self) -> list[SentMessage]:
        conditions = gather_conditions(
            self,  # type: ignore[arg-type]
            consecutive_failures=self.failures,
            now=self.clock(),
        )
        return self.alerts.process(conditions)

    def sent(self) -> tuple[list[str], list[str]]:
        """What the admin chat and the webhook received (calls the fake refused left out)."""
        accepted = [c.text for c in self.telegram.sent(ADMIN) if c.token == self.telegram.token]
        return accepted, [r["message"] for r in self.webhook.requests]


@pytest.fixture
def make_stack(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> Iterator[Callable[..., Stack]]:
    opened: list[Any] = []

    def build(**overrides: Any) -> Stack:
        telegram, webhook = FakeTelegram().start(), Webhook().start()
        values: dict[str, Any] = {
            "telegram_bot_token": telegram.token,
            "telegram_api_base_url": telegram.base_url,
            "alert_telegram_chat_id": ADMIN,
            "alert_urls": webhook.apprise_url,
            "alert_cooldown_minutes": 60,
            "stale_after_hours": 10_000,
        }
        settings = make_settings(**values | overrides)
        assert settings.database_url is not None
        db = Database(settings.database_url.get_secret_value())
        db.open()
        apply_migrations(db)
        opened.extend([telegram, webhook, db])
        prices = PriceRepository(db)
        market = MarketService(
            prices, make_cache(None), None, stale_after_hours=settings.stale_after_hours
        )
        forecasts = ForecastService(
            prices, ModelRegistry(db), PredictionLedger(db), tmp_path / "models"
        )
        clock = Clock(TODAY + timedelta(hours=1))
        alerts = AlertService.from_settings(settings, db, clock=clock)
        return Stack(settings, db, prices, market, forecasts, alerts, clock, telegram, webhook, {})

    yield build
    for thing in opened:
        thing.stop() if hasattr(thing, "stop") else thing.close()


def _bars(returns: np.ndarray, end: datetime, freq: str = "D") -> pd.DataFrame:
    close = 30_000.0 * np.exp(np.cumsum(returns))
    open_ = np.concatenate([[30_000.0], close[:-1]])
    index = pd.date_range(end=end, periods=len(returns), freq=freq, tz="UTC", name="ts")
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * 1.01,
            "low": np.minimum(open_, close) * 0.99,
            "close": close,
            "volume": np.full(len(returns), 1e8),
        },
        index=index,
    )


def _champion(stack: Stack, bars: pd.DataFrame, train_end: date, skill: float = 0.5) -> int:
    registry = stack.forecasts.registry
    version = registry.register(
        "BTC-USD",
        train_start=bars.index[0].date(),
        train_end=train_end,
        hyperparams={},
        data_fingerprint="test",
        eval_window={"start": "2024-01-01", "end": "2024-06-30"},
        metrics={"1": {"mae": 100.0, "skill": skill}, "7": {"mae": 300.0, "skill": skill}},
        baseline={},
        artifact_path=str(stack.settings.resolved_model_dir / "none"),
    )
    registry.promote("BTC-USD", version.version)
    return version.version


def _lifecycle(
    stack: Stack, key: str, start: Callable[[], None], clear: Callable[[], None]
) -> None:
    """Start: one message to each destination; within the cooldown: none; after it: one
    reminder each; clear: one "cleared" each; then none again."""

    def step(minutes: float = 10) -> list[SentMessage]:
        stack.clock.now += timedelta(minutes=minutes)
        return stack.check()

    assert stack.check() == [] and stack.sent() == ([], [])
    start()
    (raised,) = step()
    assert raised.key == key and raised.kind == "raised" and raised.ok
    telegram, hook = stack.sent()
    assert telegram == hook == [raised.text] and raised.text.startswith("ALERT ")
    assert [step(), step(), step(20)] == [[], [], []]
    (reminder,) = step(20)  # 60 minutes after the first message
    assert reminder.kind == "reminder" and reminder.text.startswith("STILL ACTIVE since")
    assert step() == []
    clear()
    (cleared,) = step()
    assert cleared.key == key and cleared.kind == "cleared" and cleared.text.startswith("CLEARED")
    assert [step(), step(120)] == [[], []]
    telegram, hook = stack.sent()
    assert telegram == hook == [raised.text, reminder.text, cleared.text]
    (request,) = stack.webhook.requests[:1]
    assert (
        request["path"] == "/hooks/alerts" and request["title"] == f"crypto-assistant alert: {key}"
    )
    row = AlertStore(stack.db).get(key)
    assert row is not None and not row.active and row.pending_kind is None
    assert stack.telegram.errors == []


def test_drift_on_a_champion(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    rng = np.random.default_rng(5)
    returns = np.concatenate([rng.normal(0, 0.005, 370), rng.normal(0, 0.08, 30)])
    bars = _bars(returns, TODAY)
    stack.prices.upsert("BTC-USD", "1d", bars, "test")

    def start() -> None:  # trained on the calm months; the last 30 days are wild
        _champion(stack, bars, bars.index[369].date())

    def clear() -> None:  # retrained on everything: nothing recent left to differ
        _champion(stack, bars, bars.index[-1].date())

    _lifecycle(stack, "drift:BTC-USD", start, clear)
    raised, _, cleared = stack.sent()[0]
    assert "drift BTC-USD: champion v1" in raised and "crypto-assistant models train" in raised
    assert cleared == "CLEARED drift BTC-USD: champion v2 shows no drift now."


def test_stale_series(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(stale_after_hours=36)
    end = datetime(2025, 1, 31, tzinfo=UTC)
    rng = np.random.default_rng(1)
    stack.prices.upsert("BTC-USD", "1d", _bars(rng.normal(0, 0.02, 60), end), "test")
    hourly = _bars(rng.normal(0, 0.002, 200), end + timedelta(hours=20), "h")
    stack.prices.upsert("ETH-USD", "1h", hourly, "test")
    stack.clock.now = end + timedelta(hours=30)  # both fresh

    def start() -> None:  # 50 h after the last daily bar; the hourly one is 30 h old
        stack.clock.now = end + timedelta(hours=50)

    def clear() -> None:
        stack.prices.upsert("BTC-USD", "1d", _bars(np.zeros(1), end + timedelta(days=2)), "test")

    _lifecycle(stack, "stale:BTC-USD:1d", start, clear)
    raised = stack.sent()[0][0]
    assert "stale data BTC-USD 1d: newest bar 2025-01-31 00:00 UTC is 50 h old" in raised
    assert "crypto-assistant data refresh BTC-USD --interval 1d" in raised
    assert AlertStore(stack.db).get("stale:ETH-USD:1h") is None  # never active


def test_champion_regressing(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    bars = _bars(np.random.default_rng(2).normal(0, 0.03, 400), TODAY)
    stack.prices.upsert("BTC-USD", "1d", bars, "test")
    version = _champion(stack, bars, bars.index[-1].date(), skill=0.5)
    close = bars["close"]

    def start() -> None:  # served forecasts beat naive by 10%: far from the 50% it was rated at
        entries = [
            LedgerEntry(
                bars.index[i].date(),
                bars.index[i + 1].date(),
                1,
                float(close.iloc[i]),
                float(close.iloc[i] + 0.1 * (close.iloc[i + 1] - close.iloc[i])),
                0.0,
                1e9,
            )
            for i in range(len(bars) - 41, len(bars) - 1)
        ]
        stack.forecasts.ledger.record("BTC-USD", version, entries)

    def clear() -> None:  # its realised accuracy recovers
        with stack.db.connection() as conn:
            conn.execute(
                "UPDATE prediction_ledger SET predicted = origin_close + 0.7 * (actual - origin_close)"
            )

    _lifecycle(stack, "regression:BTC-USD", start, clear)
    raised = stack.sent()[0][0]
    assert "regression BTC-USD: champion v1" in raised and "skill +10% vs naive" in raised
    assert "walk-forward: +50%" in raised and "crypto-assistant models train BTC-USD" in raised
    assert AlertStore(stack.db).get("drift:BTC-USD") is None  # no drift: only the regression


@pytest.mark.parametrize(
    ("task", "key", "failing"),
    [("market_refresh", "job_failures:market_refresh", 3), ("backup", "backup", 1)],
)
def test_job_failures_and_backups(
    make_stack: Callable[..., Stack], task: str, key: str, failing: int
) -> None:
    stack = make_stack()
    stack.failures.update({task: failing - 1, "news_refresh": 0})

    def start() -> None:
        stack.failures[task] = failing

    def clear() -> None:
        stack.failures[task] = 0

    _lifecycle(stack, key, start, clear)
    raised = stack.sent()[0][0]
    assert ("last 3 runs failed" if task != "backup" else "the last backup failed") in raised


def test_concurrent_checks_send_each_transition_once(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    other = Database(_dsn(stack))  # a second worker process has its own pool
    other.open()
    workers = [
        AlertService.from_settings(stack.settings, stack.db if i % 2 else other, clock=stack.clock)
        for i in range(8)
    ]

    def all_at_once() -> int:
        barrier = threading.Barrier(len(workers))
        counts: list[int] = []

        def run(service: AlertService) -> None:
            barrier.wait()
            conditions = gather_conditions(
                stack,  # type: ignore[arg-type]
                consecutive_failures=dict(stack.failures),
                now=stack.clock(),
                active_keys=(),
            )
            counts.append(len(service.process(conditions)))

        threads = [threading.Thread(target=run, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        return sum(counts)

    try:
        stack.failures["train_model"] = 5
        assert all_at_once() == 1
        stack.clock.now += timedelta(minutes=10)
        assert all_at_once() == 0
        stack.clock.now += COOLDOWN
        assert all_at_once() == 1
        stack.failures["train_model"] = 0
        assert all_at_once() == 1
        telegram, hook = stack.sent()
        assert len(telegram) == len(hook) == 3 and telegram == hook
    finally:
        other.close()


def _dsn(stack: Stack) -> str:
    assert stack.settings.database_url is not None
    return stack.settings.database_url.get_secret_value()


def test_a_failing_destination_gets_the_alert_later(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    stack.webhook.down = True
    stack.failures["backup"] = 1
    (first,) = stack.check()
    assert first.delivered == (f"telegram:{ADMIN}",) and not first.ok
    assert "ALERT_URLS #1 (json://)" in next(iter(first.errors.values()))
    row = AlertStore(stack.db).get("backup")
    assert row is not None and row.pending_kind == "raised" and row.attempts == 1
    assert row.last_error is not None and "ALERT_URLS #1" in row.last_error
    stack.clock.now += timedelta(minutes=10)
    assert not stack.check()[0].ok  # still down: still owed, Telegram not sent twice
    stack.webhook.down = False
    stack.clock.now += timedelta(minutes=10)
    (retry,) = stack.check()
    assert retry.ok and len(retry.delivered) == 1 and retry.delivered[0].startswith("url:")
    stack.clock.now += timedelta(minutes=10)
    assert stack.check() == []
    telegram, hook = stack.sent()
    assert telegram == hook == [first.text]


def test_a_rejected_telegram_token_is_retried_after_the_fix(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    broken = stack.settings.model_copy(update={"telegram_bot_token": SecretStr("1:wrong")})
    stack.alerts = AlertService.from_settings(broken, stack.db, clock=stack.clock)
    stack.failures["backup"] = 1
    (first,) = stack.check()
    assert "Telegram answered 401" in first.errors[f"telegram:{ADMIN}"]
    stack.alerts = AlertService.from_settings(stack.settings, stack.db, clock=stack.clock)
    stack.clock.now += timedelta(minutes=10)
    (retry,) = stack.check()
    assert retry.delivered == (f"telegram:{ADMIN}",)
    telegram, hook = stack.sent()
    assert telegram == hook == [first.text]


class _Crash:
    name = "crash"

    def send(self, title: str, text: str, kind: str) -> None:
        raise SystemExit("worker killed mid-send")


def test_a_worker_dying_mid_send_is_covered_after_the_lease(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    stack.failures["backup"] = 1
    healthy = stack.alerts
    stack.alerts = AlertService(
        healthy.store, type(healthy.notifier)([_Crash()]), cooldown=COOLDOWN, clock=stack.clock
    )
    with pytest.raises(SystemExit):
        stack.check()
    stack.alerts = healthy
    stack.clock.now += timedelta(minutes=4)
    assert stack.check() == []  # its claim still holds
    stack.clock.now += timedelta(minutes=2)
    (late,) = stack.check()
    assert late.kind == "raised" and late.ok
    assert stack.sent() == ([late.text], [late.text])
