"""Event studies find an edge put there by construction, and none in a random walk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.unit.tools.synthetic import random_walk_bars
from tools.backtest import MIN_EVENTS, backtest, event_table, track_records
from tools.backtest.events import event_stats, forward_returns, onsets


def _mean_reverting_after_oversold(n: int, seed: int, boost: float) -> pd.DataFrame:
    """A random walk in which each close with RSI(14) under 30 is followed by `boost` of extra
    daily return over the next 7 days (the edge an oversold-buy rule should find)."""
    import talib

    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, 0.03, n)
    extra = np.zeros(n + 8)
    close = np.empty(n)
    level = 100.0
    for t in range(n):
        level *= float(np.exp(noise[t] + extra[t]))
        close[t] = level
        if t >= 15 and talib.RSI(close[: t + 1], 14)[-1] < 30:
            extra[t + 1 : t + 8] = boost
    open_ = np.concatenate([[100.0], close[:-1]])
    index = pd.date_range("2016-01-01", periods=n, freq="D", tz="UTC")
    return pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * 1.01,
                         "low": np.minimum(open_, close) * 0.99, "close": close,
                         "volume": np.full(n, 1e6)}, index=index)  # fmt: skip


def test_an_injected_mean_reversion_after_oversold_shows_a_positive_edge() -> None:
    bars = _mean_reverting_after_oversold(2500, seed=5, boost=0.01)
    week = backtest(bars, symbol="X", rule="rsi_oversold").events.buy[1]
    assert week.horizon == 7 and week.enough and week.n >= MIN_EVENTS
    assert week.significant and week.favourable
    assert week.edge is not None and week.ci_low is not None and week.ci_low > 0
    assert week.hit_rate is not None and week.hit_rate > week.base_hit_rate  # type: ignore[operator]
    # the same walk without the boost: no edge to find
    plain = backtest(_mean_reverting_after_oversold(2500, seed=5, boost=0.0), symbol="X",
                     rule="rsi").events.buy[1]  # fmt: skip
    assert not plain.significant
    assert plain.ci_low is not None and plain.ci_high is not None
    assert plain.ci_low <= 0 <= plain.ci_high


def test_random_walks_show_no_edge_beyond_the_test_level() -> None:
    """Over many random walks, rules and sides, about 5% of tests come out significant (the
    level), and the interval covers zero about 95% of the time."""
    tests = significant = covered = 0
    for seed in range(12):
        table = event_table(random_walk_bars(1500, seed=100 + seed, drift=0.0, volatility=0.03))
        for record in table.values():
            for stats in (*record.buy, *record.sell):
                if not stats.enough:
                    continue
                tests += 1
                significant += stats.significant
                covered += stats.ci_low <= 0 <= stats.ci_high  # type: ignore[operator]
    assert tests > 300
    assert significant / tests < 0.10
    assert covered / tests > 0.90


def test_too_few_occurrences_give_not_enough_history_and_no_figures() -> None:
    action = np.zeros(300)
    action[[50, 120, 200]] = 1.0  # three onsets
    open_ = np.linspace(100, 130, 300)
    stats = event_stats(action, open_, 1, 7, np.ones(300, dtype=bool))
    assert stats.n == 3 and not stats.enough
    assert stats.hit_rate is None and stats.mean_return is None and not stats.significant


def test_forward_returns_run_from_the_next_open_and_stop_at_the_last_bar() -> None:
    open_ = np.array([10.0, 11.0, 12.0, 15.0, 9.0])
    week = forward_returns(open_, 2)
    assert week[0] == pytest.approx(15.0 / 11.0 - 1)  # enter at open 1, exit at open 3
    assert week[1] == pytest.approx(9.0 / 12.0 - 1)
    assert np.isnan(week[2:]).all()  # the exit open would lie past the data


def test_an_onset_is_a_turn_from_another_reading() -> None:
    action = np.array([np.nan, 1.0, 1.0, 0.0, 1.0, -1.0, 1.0, 1.0])
    assert onsets(action, 1).tolist() == [False, False, False, False, True, False, True, False]
    assert onsets(action, -1).tolist() == [False, False, False, False, False, True, False, False]


def test_a_track_record_counts_only_windows_complete_by_as_of() -> None:
    bars = random_walk_bars(900, seed=21, drift=0.0, volatility=0.04)
    late = track_records(bars)["macd"]["buy"]
    early = track_records(bars, as_of=bars.index[600].date())["macd"]["buy"]
    assert early.n < late.n and early.since == late.since
    table = event_table(bars.iloc[:601])["macd"].buy[1]  # the same bars, cut by hand
    assert (early.n, early.hit_rate, early.edge) == (table.n, table.hit_rate, table.edge)
