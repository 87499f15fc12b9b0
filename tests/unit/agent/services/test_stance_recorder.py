"""The stance recorder: one write per new call, counts batched, live calls only, never raises."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio
import pytest

from agent.services.stance_recorder import StanceRecorder, call_of
from knowledge.models.stance_ledger import StanceCall

BAR = datetime(2024, 3, 1, tzinfo=UTC)


def body(as_of: datetime = BAR, stance: str = "bullish") -> dict[str, Any]:
    return {
        "symbol": "ETH-USD",
        "interval": "1d",
        "as_of": as_of.isoformat(),
        "summary": {"stance": stance, "score": 0.42},
        "values": {"close": 3100.5},
    }


class FakeLedger:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.writes: list[list[tuple[StanceCall, int]]] = []

    def record(self, calls: list[tuple[StanceCall, int]]) -> int:
        if self.fail:
            raise RuntimeError("database down")
        self.writes.append(calls)
        return len(calls)

    def counts(self) -> dict[tuple[str, str, datetime], int]:
        total: dict[tuple[str, str, datetime], int] = {}
        for batch in self.writes:
            for call, n in batch:
                total[call.key] = total.get(call.key, 0) + n
        return total


class FakePrices:
    def __init__(self, latest: datetime | None) -> None:
        self.latest = latest
        self.asked = 0

    def last_timestamp(self, symbol: str, interval: str) -> datetime | None:
        self.asked += 1
        return self.latest


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def recorder(ledger: FakeLedger, latest: datetime | None = BAR, **kw: Any) -> StanceRecorder:
    return StanceRecorder(ledger, FakePrices(latest), **kw)  # type: ignore[arg-type]


def test_call_of_reads_the_report() -> None:
    call = call_of(body())
    assert call == StanceCall("ETH-USD", "1d", BAR, "bullish", 0.42, 3100.5)


def test_first_serve_writes_later_serves_are_batched() -> None:
    ledger, clock = FakeLedger(), Clock()
    rec = recorder(ledger, flush_seconds=60, clock=clock)

    async def run() -> None:
        for _ in range(3):
            await rec.served("k", body, pinned=False)
        assert len(ledger.writes) == 1  # one write for three serves
        clock.now = 61
        await rec.served("k", body, pinned=False)

    anyio.run(run)
    assert len(ledger.writes) == 2
    assert ledger.counts() == {("ETH-USD", "1d", BAR): 4}


def test_the_body_is_decoded_once_per_key() -> None:
    decoded = []

    def load() -> dict[str, Any]:
        decoded.append(1)
        return body()

    rec = recorder(FakeLedger(), flush_seconds=0)

    async def run() -> None:
        for _ in range(5):
            await rec.served("k", load, pinned=False)

    anyio.run(run)
    assert len(decoded) == 1


@pytest.mark.parametrize(
    ("latest", "recorded"), [(BAR, True), (datetime(2024, 3, 2, tzinfo=UTC), False)]
)
def test_a_pinned_as_of_is_recorded_only_at_the_latest_bar(
    latest: datetime, recorded: bool
) -> None:
    ledger = FakeLedger()
    rec = recorder(ledger, latest=latest, flush_seconds=0)
    anyio.run(lambda: rec.served("k", body, pinned=True))
    assert bool(ledger.writes) is recorded


def test_a_failing_write_is_kept_and_retried_without_raising() -> None:
    ledger, clock = FakeLedger(fail=True), Clock()
    rec = recorder(ledger, flush_seconds=0, retry_seconds=30, clock=clock)

    async def run() -> None:
        await rec.served("k", body, pinned=False)  # fails: logged, not raised
        await rec.served("k", body, pinned=False)  # inside the retry pause: only counted
        ledger.fail = False
        clock.now = 31
        await rec.served("k", body, pinned=False)

    anyio.run(run)
    assert ledger.counts() == {("ETH-USD", "1d", BAR): 3}


def test_a_broken_report_is_not_recorded_and_does_not_raise() -> None:
    ledger = FakeLedger()
    rec = recorder(ledger, flush_seconds=0)
    anyio.run(lambda: rec.served("k", lambda: {"symbol": "ETH-USD"}, pinned=False))
    assert ledger.writes == []
