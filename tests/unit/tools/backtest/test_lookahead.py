"""No look-ahead: rewriting every bar after day t changes no signal, entry or return up to t,
and a backtest that ends at t reads nothing after it."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.tools.synthetic import random_walk_bars
from tools.backtest import backtest, rule_actions, track_records
from tools.backtest.events import forward_returns
from tools.indicators.bars import prepare_bars
from tools.indicators.params import DEFAULT_PARAMS

BARS = random_walk_bars(520, seed=11, volatility=0.04)


def _rewritten_after(bars: pd.DataFrame, t: int, seed: int) -> pd.DataFrame:
    """The same bars up to t; after it, another random walk (crash, rally or noise)."""
    rng = np.random.default_rng(seed)
    other = bars.copy()
    k = len(bars) - t - 1
    factor = np.exp(np.cumsum(rng.normal(rng.uniform(-0.05, 0.05), 0.06, k)))
    for column in ("open", "high", "low", "close"):
        other.iloc[t + 1 :, other.columns.get_loc(column)] = bars[column].iloc[t] * factor
    other.iloc[t + 1 :, other.columns.get_loc("high")] *= 1.02
    other.iloc[t + 1 :, other.columns.get_loc("low")] *= 0.98
    other.iloc[t + 1 :, other.columns.get_loc("volume")] = rng.uniform(1e5, 1e7, k)
    return other


@settings(max_examples=25, deadline=None)
@given(t=st.integers(min_value=230, max_value=500), seed=st.integers(0, 10_000))
def test_later_bars_change_nothing_up_to_t(t: int, seed: int) -> None:
    other = _rewritten_after(BARS, t, seed)
    before = rule_actions(prepare_bars(BARS), DEFAULT_PARAMS)
    after = rule_actions(prepare_bars(other), DEFAULT_PARAMS)
    for name, values in before.actions.items():
        np.testing.assert_array_equal(values[: t + 1], after.actions[name][: t + 1], err_msg=name)
    for horizon in (1, 7, 30):
        known = max(0, t - horizon)  # entry at i + 1, exit at the open of i + 1 + horizon <= t
        np.testing.assert_array_equal(
            forward_returns(BARS["open"].to_numpy(), horizon)[:known],
            forward_returns(other["open"].to_numpy(), horizon)[:known],
        )
    end = BARS.index[t].date()  # a date: up to the close of that day's bar
    for rule in ("stance", "macd", "rsi"):
        mine = backtest(BARS, symbol="X", rule=rule, end=end, start="2022-08-01")
        theirs = backtest(other, symbol="X", rule=rule, end=end, start="2022-08-01")
        assert mine == theirs
        assert mine.end == BARS.index[t].to_pydatetime()
    # the track records a /technical report as of t carries: the same whatever came after
    assert track_records(BARS, as_of=end) == track_records(other, as_of=end)
