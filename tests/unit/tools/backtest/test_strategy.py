"""Strategy arithmetic: positions from the next open, costs on every change, the figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.unit.tools.synthetic import random_walk_bars
from tools.backtest import backtest
from tools.backtest.strategy import backtest_strategy

INDEX = pd.date_range("2024-01-01", periods=6, freq="D", tz="UTC")
OPEN = np.array([100.0, 100.0, 110.0, 99.0, 99.0, 120.0])
CLOSE = np.array([100.0, 110.0, 99.0, 99.0, 120.0, 132.0])


def test_a_reading_trades_from_the_next_open_and_pays_each_change() -> None:
    # buy at closes 0 and 1, sell at 2, buy at 3 and 4 (unused: the period ends at bar 5)
    action = np.array([1.0, 1.0, -1.0, 1.0, 1.0, 1.0])
    report = backtest_strategy(action, OPEN, CLOSE, INDEX, 0, 5, fee_bps=10, slippage_bps=0)
    cost = 0.001
    # long/flat: long bars 1-2 (100 -> 110 -> 99), flat bar 3, long bars 4-5 (99 -> 120 -> 132)
    expected = (1 - cost) * 1.1 * 0.9 * (1 - cost) * 1 * (1 - cost) * (120 / 99) * 1.1
    assert report.long_flat.total_return == pytest.approx(expected - 1)
    assert report.long_flat.trades == 2
    assert report.long_flat.exposure == pytest.approx(4 / 5)
    # long/short: short bar 3 (99 -> 99) costs two units of change at its open and two back
    short = (1 - cost) * 1.1 * 0.9 * (1 - 2 * cost) * 1.0 * (1 - 2 * cost) * (120 / 99) * 1.1
    assert report.long_short.total_return == pytest.approx(short - 1)
    assert report.long_short.trades == 3
    # buy and hold: one entry at the open of bar 1, marked at the last close
    assert report.buy_hold.total_return == pytest.approx((1 - cost) * 132 / 100 - 1)
    assert report.buy_hold.max_drawdown == pytest.approx(99 / 110 - 1)
    assert report.equity[-1].buy_hold == pytest.approx((1 - cost) * 132 / 100)
    assert [p.date for p in report.equity] == [f"2024-01-0{d}" for d in range(2, 7)]


def test_no_reading_means_flat_and_costs_nothing() -> None:
    action = np.full(6, np.nan)
    report = backtest_strategy(action, OPEN, CLOSE, INDEX, 0, 5, fee_bps=10, slippage_bps=5)
    assert report.long_flat.total_return == 0.0
    assert report.long_flat.trades == 0 and report.long_flat.exposure == 0.0
    assert report.long_flat.sharpe is None  # no variation: no ratio, not a division by zero
    assert not report.beats_buy_hold


def test_costs_only_ever_lower_the_result() -> None:
    bars = random_walk_bars(600, seed=4)
    free = backtest(bars, symbol="X", rule="macd", fee_bps=0, slippage_bps=0).strategy
    paid = backtest(bars, symbol="X", rule="macd", fee_bps=25, slippage_bps=25).strategy
    assert paid.long_flat.total_return < free.long_flat.total_return
    assert paid.long_flat.trades == free.long_flat.trades > 0
    lost = (1 - 0.005) ** (2 * paid.long_flat.trades)  # every entry and exit pays 50 bp
    assert (1 + paid.long_flat.total_return) == pytest.approx(
        (1 + free.long_flat.total_return) * lost, rel=0.02
    )
