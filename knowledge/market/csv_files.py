"""OHLCV CSV files (`Date,Open,High,Low,Close,Volume`): name parsing, validation, import.

The symbol comes from the file name (`BTC-USD.csv` daily, `BTC-USD_1h.csv` hourly). A file is
validated whole before anything is written, then stored in one transaction: all or nothing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from knowledge.errors import DataValidationError
from knowledge.market.repository import COLUMNS, PriceRepository
from knowledge.market.symbols import resolve

_FILE = re.compile(r"^(?P<symbol>[A-Za-z0-9.]+-[A-Za-z]+)(?:_(?P<interval>1d|1h))?\.csv$")
_REQUIRED = ["date", *COLUMNS]


@dataclass(frozen=True)
class ImportResult:
    """What one file import did; `skipped` means the same content was imported before."""

    file: str
    symbol: str
    interval: str
    rows: int
    written: int
    skipped: bool = False


def parse_file_name(path: Path) -> tuple[str, str]:
    """(symbol, interval) from `BTC-USD.csv` / `BTC-USD_1h.csv`; the symbol must be supported."""
    match = _FILE.match(path.name)
    if not match:
        raise DataValidationError(
            str(path), [(0, "file name must be SYMBOL.csv or SYMBOL_1h.csv, e.g. BTC-USD.csv")]
        )
    coin = resolve(match.group("symbol"))
    return coin.symbol, match.group("interval") or "1d"


def read_ohlcv(path: Path, interval: str) -> pd.DataFrame:
    """Parse and validate a file; every bad row is reported with its line number."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataValidationError(str(path), [(0, f"not a readable CSV file: {exc}")]) from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in _REQUIRED if c not in raw.columns]
    if missing:
        raise DataValidationError(str(path), [(1, f"missing column(s): {', '.join(missing)}")])
    if raw.empty:
        raise DataValidationError(str(path), [(2, "no data rows")])

    lines = np.arange(len(raw)) + 2  # line 1 is the header
    problems: list[tuple[int, str]] = []
    ts = pd.to_datetime(raw["date"], utc=True, errors="coerce", format="mixed")
    for line in lines[ts.isna().to_numpy()]:
        problems.append((int(line), f"unreadable date {raw['date'].iloc[line - 2]!r}"))
    values = {c: pd.to_numeric(raw[c], errors="coerce") for c in COLUMNS}
    for col, series in values.items():
        bad = series.isna().to_numpy() | ~np.isfinite(series.to_numpy(dtype=float, na_value=0.0))
        for line in lines[bad]:
            problems.append((int(line), f"{col} is not a number: {raw[col].iloc[line - 2]!r}"))
    o, h, lo, c, v = (values[k].to_numpy(dtype=float, na_value=np.nan) for k in COLUMNS)
    with np.errstate(invalid="ignore"):
        checks = [
            ((o <= 0) | (h <= 0) | (lo <= 0) | (c <= 0), "price must be positive"),
            (h < lo, "high is below low"),
            ((h < np.maximum(o, c) * (1 - 1e-9)), "high is below open or close"),
            ((lo > np.minimum(o, c) * (1 + 1e-9)), "low is above open or close"),
            (v < 0, "volume is negative"),
        ]
    for mask, message in checks:
        for line in lines[mask]:
            problems.append((int(line), message))
    if interval == "1d":
        not_midnight = ts.notna() & (ts != ts.dt.floor("D"))
        for line in lines[not_midnight.to_numpy()]:
            problems.append((int(line), "a daily bar must be at 00:00 UTC"))
    duplicated = ts.notna() & ts.duplicated(keep="first")
    for line in lines[duplicated.to_numpy()]:
        problems.append((int(line), f"duplicate timestamp {ts.iloc[line - 2].isoformat()}"))
    if problems:
        raise DataValidationError(str(path), sorted(problems))

    frame = pd.DataFrame({k: values[k].astype(float).to_numpy() for k in COLUMNS}, index=ts)
    frame.index.name = "ts"
    return frame.sort_index()


def import_file(repo: PriceRepository, path: Path, *, force: bool = False) -> ImportResult:
    """Validate then store one file in a single transaction, recording its content hash."""
    symbol, interval = parse_file_name(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if not force and repo.file_already_imported(digest):
        return ImportResult(str(path), symbol, interval, 0, 0, skipped=True)
    frame = read_ohlcv(path, interval)
    with repo.db.connection() as conn, conn.transaction():
        result = repo.upsert(symbol, interval, frame, source="csv", conn=conn)
        conn.execute(
            "INSERT INTO data_imports (file_name, sha256, symbol, interval, rows, imported_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (path.name, digest, symbol, interval, len(frame), datetime.now(UTC)),
        )
    return ImportResult(str(path), symbol, interval, len(frame), result.written)


def csv_files_in(paths: list[Path]) -> list[Path]:
    """Expand folders to the `*.csv` files they hold; files are kept as given."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(path.glob("*.csv")))
        elif path.exists():
            found.append(path)
        else:
            raise DataValidationError(str(path), [(0, "no such file or folder")])
    return found
