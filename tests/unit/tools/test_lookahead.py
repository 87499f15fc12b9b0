"""Point in time: a report `as_of` a past moment is exactly the report computed from the bars
that had closed by that moment; bars after it (even rewritten ones) change nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.unit.tools.synthetic import random_walk_bars
from tools.errors import InsufficientDataError
from tools.indicators import TechnicalEngine, indicator_frame
from tools.indicators.models import Interval

ENGINE = TechnicalEngine()


def _random_cutoffs(bars: pd.DataFrame, count: int, seed: int) -> list[pd.Timestamp]:
    """Seeded cut-off times: some exactly on a bar, some between bars, from very early
    (indicators still warming up) to the last bar."""
    rng = np.random.default_rng(seed)
    positions = rng.choice(np.arange(len(bars)), size=count, replace=False)
    step = bars.index[1] - bars.index[0]
    cutoffs = []
    for k, position in enumerate(sorted(positions)):
        offset = step * float(rng.uniform(0, 0.99)) if k % 2 else pd.Timedelta(0)
        cutoffs.append(bars.index[position] + offset)
    return cutoffs


@pytest.mark.parametrize(("interval", "freq", "count"), [("1d", "1D", 60), ("1h", "1h", 20)])
def test_report_as_of_equals_report_on_truncated_history(
    interval: Interval, freq: str, count: int
) -> None:
    bars = random_walk_bars(700, seed=3, freq=freq)
    step = pd.Timedelta(freq)
    for cutoff in _random_cutoffs(bars, count, seed=2024):
        known = bars[bars.index + step <= cutoff]  # a bar is known once it has closed
        if known.empty:
            with pytest.raises(InsufficientDataError):
                ENGINE.analyze(bars, symbol="TEST-USD", interval=interval, as_of=cutoff)
            continue
        full = ENGINE.analyze(bars, symbol="TEST-USD", interval=interval, as_of=cutoff)
        truncated = ENGINE.analyze(known, symbol="TEST-USD", interval=interval)
        assert full.as_of == known.index[-1] and full.bars_used == len(known)
        assert full.values == truncated.values  # exact equality, value by value
        assert full.unavailable == truncated.unavailable
        assert full.signals == truncated.signals
        assert full.summary == truncated.summary
        assert full.levels == truncated.levels
        assert full.patterns == truncated.patterns
        assert full.model_dump() == truncated.model_dump()


def test_rewriting_the_future_does_not_change_a_past_report() -> None:
    bars = random_walk_bars(600, seed=5)
    rng = np.random.default_rng(99)
    for position in rng.choice(np.arange(30, 590), size=50, replace=False):
        cutoff = bars.index[position]
        future = bars.index > cutoff
        altered = bars.copy()
        altered.loc[future, ["open", "high", "low", "close"]] *= 1.5  # a rally that "happens later"
        altered.loc[future, "volume"] *= 3.0
        before = ENGINE.analyze(bars, symbol="TEST-USD", as_of=cutoff)
        after = ENGINE.analyze(altered, symbol="TEST-USD", as_of=cutoff)
        assert before.model_dump() == after.model_dump()


def test_chart_series_stop_at_as_of() -> None:
    bars = random_walk_bars(400, seed=8)
    cutoff = bars.index[300]
    frame = indicator_frame(bars, as_of=cutoff)  # the bar starting at the cutoff is still open
    truncated = indicator_frame(bars.iloc[:300])
    assert frame.index[-1] == bars.index[299]
    pd.testing.assert_frame_equal(frame, truncated)


def test_date_only_as_of_includes_that_whole_day() -> None:
    bars = random_walk_bars(240, seed=4, freq="1h")
    report = ENGINE.analyze(bars, symbol="TEST-USD", interval="1h", as_of="2022-01-05")
    assert report.as_of == pd.Timestamp("2022-01-05 23:00", tz="UTC")
