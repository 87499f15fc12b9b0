"""Input side of the engine: validate an OHLCV frame and cut it at `as_of`.

Everything downstream works on `BarArrays` (a UTC index plus contiguous float64 arrays), so
the point-in-time cut happens in exactly one place, by the project's one rule
(`knowledge.as_of`): a bar is kept once it has closed by the `as_of` instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from knowledge.as_of import BAR_LENGTH, as_of_instant, last_bar_start
from tools.errors import InsufficientDataError, InvalidBarsError

COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")

AsOf = datetime | date | pd.Timestamp | str | None


@dataclass(frozen=True, slots=True)
class BarArrays:
    """OHLCV bars cut at `as_of`, as a UTC index plus contiguous float64 arrays."""

    index: pd.DatetimeIndex
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    @property
    def n(self) -> int:
        """Number of bars."""
        return len(self.close)


def to_utc_timestamp(as_of: AsOf, interval: str = "1d") -> pd.Timestamp | None:
    """The latest start of an `interval` bar that has closed by `as_of` (None = no cut).

    A date (or "YYYY-MM-DD") means the end of that UTC day, so its daily bar and all its hourly
    bars are in; a date-time is an instant (naive = UTC), so a daily bar stamped on that day is
    not, since it closes later.
    """
    if as_of is None:
        return None
    return pd.Timestamp(last_bar_start(as_of_instant(as_of), interval))


def utc_day_start(moment: datetime | date | str) -> pd.Timestamp:
    """The start (00:00 UTC) of the day of `moment`; a naive value is read as UTC."""
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.normalize()


def prepare_bars(bars: pd.DataFrame, as_of: AsOf = None, interval: str = "1d") -> BarArrays:
    """Validate an OHLCV frame and keep only the `interval` bars closed by `as_of`.

    Raises `InvalidBarsError` when the frame breaks the input contract and
    `InsufficientDataError` when no bar is left.
    """
    if not isinstance(bars, pd.DataFrame):
        raise InvalidBarsError("bars must be a pandas DataFrame")
    index = bars.index
    if not isinstance(index, pd.DatetimeIndex):
        raise InvalidBarsError("bars must have a DatetimeIndex")
    lower = {str(c).lower(): c for c in bars.columns}
    missing = [c for c in COLUMNS if c not in lower]
    if missing:
        raise InvalidBarsError(f"bars are missing column(s): {', '.join(missing)}")
    if len(index) == 0:
        raise InsufficientDataError("no bars given")
    if not index.is_monotonic_increasing or not index.is_unique:
        raise InvalidBarsError("bar index must be ascending and unique")
    if index.tz is None:
        index = index.tz_localize("UTC")
    elif str(index.tz) != "UTC":
        index = index.tz_convert("UTC")

    stop = len(index)
    cutoff = to_utc_timestamp(as_of, interval)
    if cutoff is not None:
        stop = int(index.searchsorted(cutoff, side="right"))
        if stop == 0:
            first = index[0].isoformat()
            closed_by = (cutoff + BAR_LENGTH[interval]).isoformat()
            raise InsufficientDataError(f"no {interval} bar closed by {closed_by} (first {first})")

    columns = [lower[name] for name in COLUMNS]
    if len(bars.columns) == len(COLUMNS):
        # One conversion of the whole frame: the transposed copy gives contiguous rows.
        matrix = np.ascontiguousarray(bars.to_numpy(dtype=np.float64).T)
        position = {column: i for i, column in enumerate(bars.columns)}
        rows = [matrix[position[column], :stop] for column in columns]
        finite = bool(np.isfinite(matrix[:, :stop]).all())
    else:
        rows = [np.ascontiguousarray(bars[c].to_numpy(dtype=np.float64)[:stop]) for c in columns]
        finite = all(bool(np.isfinite(row).all()) for row in rows)
    if not finite:
        bad = [name for name, row in zip(COLUMNS, rows, strict=True) if not np.isfinite(row).all()]
        raise InvalidBarsError(f"column(s) {', '.join(bad)} hold NaN or infinite values")
    kept = index if stop == len(index) else index[:stop]
    return BarArrays(kept, *rows)
