"""CSV validation rules, each reported with its file line (no database needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.errors import DataValidationError, UnknownSymbolError
from knowledge.market.csv_files import parse_file_name, read_ohlcv

HEADER = "Date,Open,High,Low,Close,Volume\n"


def _write(tmp_path: Path, body: str, name: str = "BTC-USD.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body)
    return path


def _problems(path: Path, interval: str = "1d") -> list[tuple[int, str]]:
    with pytest.raises(DataValidationError) as info:
        read_ohlcv(path, interval)
    return info.value.problems


def test_file_names_give_symbol_and_interval(tmp_path: Path) -> None:
    assert parse_file_name(Path("BTC-USD.csv")) == ("BTC-USD", "1d")
    assert parse_file_name(Path("btc-usd_1h.csv")) == ("BTC-USD", "1h")
    with pytest.raises(UnknownSymbolError):
        parse_file_name(Path("FAKE-USD.csv"))
    with pytest.raises(DataValidationError):
        parse_file_name(Path("prices.txt"))


def test_a_valid_file_parses_to_utc_bars(tmp_path: Path) -> None:
    path = _write(tmp_path, "2024-01-01,10,12,9,11,100\n2024-01-02,11,13,10,12.5,200\n")
    bars = read_ohlcv(path, "1d")
    assert list(bars.columns) == ["open", "high", "low", "close", "volume"]
    assert str(bars.index.tz) == "UTC"
    assert bars["close"].tolist() == [11.0, 12.5]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2024-01-02,0,13,10,12,200", "price must be positive"),
        ("2024-01-02,11,9,10,10,200", "high is below low"),
        ("2024-01-02,11,13,10,14,200", "high is below open or close"),
        ("2024-01-02,11,13,10,12,-1", "volume is negative"),
        ("2024-01-02,11,13,10,abc,200", "close is not a number: 'abc'"),
        ("not-a-date,11,13,10,12,200", "unreadable date 'not-a-date'"),
        ("2024-01-01,11,13,10,12,200", "duplicate timestamp 2024-01-01T00:00:00+00:00"),
        ("2024-01-02 05:00,11,13,10,12,200", "a daily bar must be at 00:00 UTC"),
    ],
)
def test_each_rule_names_the_bad_line(tmp_path: Path, row: str, message: str) -> None:
    path = _write(tmp_path, f"2024-01-01,10,12,9,11,100\n{row}\n2024-01-03,11,13,10,12,200\n")
    assert (3, message) in _problems(path)


def test_missing_columns_are_reported_on_the_header(tmp_path: Path) -> None:
    path = tmp_path / "BTC-USD.csv"
    path.write_text("Date,Open,Close\n2024-01-01,1,2\n")
    assert _problems(path) == [(1, "missing column(s): high, low, volume")]
