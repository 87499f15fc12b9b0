"""CSV import into real Postgres: idempotent, all-or-nothing, bounded reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agent.core import Services
from knowledge.errors import DataValidationError
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv


def _stored(services: Services, symbol: str = "BTC-USD", interval: str = "1d") -> pd.DataFrame:
    return services.prices.read(symbol, interval)


def test_importing_the_same_file_twice_leaves_the_same_rows(
    services: Services, tmp_path: Path
) -> None:
    bars = synthetic_bars(300)
    path = write_csv(tmp_path, "BTC-USD.csv", bars)
    first = import_file(services.prices, path)
    before = _stored(services)
    again = import_file(services.prices, path)  # same content: recognised, skipped
    forced = import_file(services.prices, path, force=True)  # re-run: upsert changes nothing
    after = _stored(services)
    assert (first.rows, first.written) == (300, 300)
    assert again.skipped
    assert (forced.rows, forced.written) == (300, 0)
    pd.testing.assert_frame_equal(before, after)
    np.testing.assert_allclose(after["close"].to_numpy(), bars["close"].to_numpy(), rtol=1e-9)


def test_a_changed_bar_is_updated_in_place(services: Services, tmp_path: Path) -> None:
    bars = synthetic_bars(50)
    import_file(services.prices, write_csv(tmp_path, "ETH-USD.csv", bars))
    bars.iloc[-1, bars.columns.get_loc("close")] = bars["close"].iloc[-1] * 1.001
    res = import_file(services.prices, write_csv(tmp_path, "ETH-USD.csv", bars))
    stored = _stored(services, "ETH-USD")
    assert res.written == 1
    assert len(stored) == 50
    assert stored["close"].iloc[-1] == pytest.approx(bars["close"].iloc[-1], rel=1e-9)


def test_one_bad_line_writes_nothing_and_names_the_line(services: Services, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "SOL-USD.csv", synthetic_bars(100))
    lines = path.read_text().splitlines()
    cells = lines[41].split(",")  # data row 40 is line 42 of the file (line 1 is the header)
    cells[4] = "-3.5"  # close
    lines[41] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataValidationError) as info:
        import_file(services.prices, path)
    assert (42, "price must be positive") in info.value.problems
    assert _stored(services, "SOL-USD").empty


def test_a_failure_inside_the_transaction_leaves_nothing(
    services: Services, tmp_path: Path
) -> None:
    """A crash after some rows were written (here: a constraint the database enforces) rolls back."""
    path = write_csv(tmp_path, "ADA-USD.csv", synthetic_bars(80))
    with services.db.connection() as conn:
        conn.execute(
            "ALTER TABLE data_imports ADD CONSTRAINT short_names CHECK (length(file_name) < 5)"
        )
    with pytest.raises(Exception, match="short_names"):
        import_file(services.prices, path)
    assert _stored(services, "ADA-USD").empty


def test_as_of_reads_never_return_later_bars(services: Services, tmp_path: Path) -> None:
    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", synthetic_bars(365)))
    rng = np.random.default_rng(3)
    days = pd.date_range("2022-01-01", periods=365, freq="D", tz="UTC")
    for day in rng.choice(days[1:], 25):
        # as_of is an instant: a daily bar is read once it has closed, a day after it opened
        closes = pd.Timestamp(day).to_pydatetime() + timedelta(days=1)
        got = services.prices.read("BTC-USD", "1d", as_of=closes)
        assert got.index.max() == pd.Timestamp(day)
        assert (got.index + timedelta(days=1) <= closes).all()
        still_open = services.prices.read("BTC-USD", "1d", as_of=closes - timedelta(seconds=1))
        assert still_open.index.max() == pd.Timestamp(day) - timedelta(days=1)
        as_of = closes
        last5 = services.prices.read("BTC-USD", "1d", as_of=as_of, limit=5)
        assert list(last5.index) == list(got.index[-5:])


def test_hourly_file_goes_to_the_hourly_series(services: Services, tmp_path: Path) -> None:
    hourly = synthetic_bars(72, freq="h")
    res = import_file(services.prices, write_csv(tmp_path, "BTC-USD_1h.csv", hourly))
    assert (res.symbol, res.interval, res.rows) == ("BTC-USD", "1h", 72)
    got = services.prices.read("BTC-USD", "1h", as_of=datetime(2022, 1, 2, 5, tzinfo=UTC))
    assert got.index[-1] == pd.Timestamp("2022-01-02 04:00", tz="UTC")  # closed at 05:00
    assert _stored(services, "BTC-USD", "1d").empty
