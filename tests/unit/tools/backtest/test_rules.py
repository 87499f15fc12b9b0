"""The vectorised rules are the engine: at every bar, each rule's action and the stance equal
what `TechnicalEngine.analyze` reports from the bars up to that close."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.unit.tools.synthetic import random_walk_bars
from tools.backtest import RULE_NAMES, STANCE, rule_actions
from tools.backtest.reference import actions_at
from tools.indicators.bars import prepare_bars
from tools.indicators.params import DEFAULT_PARAMS, IndicatorParams


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a == b) | (np.isnan(a) & np.isnan(b))


SEEDS = (1, 2, 3)


def _bars(seed: int) -> pd.DataFrame:
    """Long enough for golden and death crosses, volatile enough for every oscillator zone."""
    return random_walk_bars(700, seed=seed, drift=0.0, volatility=0.04)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_rule_at_every_bar_matches_the_engine(seed: int) -> None:
    bars = _bars(seed)
    fast = rule_actions(prepare_bars(bars), DEFAULT_PARAMS).actions
    slow = actions_at(bars, range(len(bars)))
    for name in RULE_NAMES:
        mismatched = np.flatnonzero(~_same(fast[name], slow[name]))
        assert mismatched.size == 0, f"{name} differs at bars {mismatched[:5]}"


def test_the_comparison_covers_every_rule_and_side() -> None:
    """Across the series above, every rule gives buys and sells (the check is not vacuous)."""
    seen: dict[str, set[float]] = {name: set() for name in RULE_NAMES}
    for seed in SEEDS:
        actions = rule_actions(prepare_bars(_bars(seed)), DEFAULT_PARAMS).actions
        for name in RULE_NAMES:
            seen[name].update(np.unique(actions[name][np.isfinite(actions[name])]).tolist())
    assert all({1.0, -1.0} <= values for values in seen.values()), seen


def test_other_parameters_are_followed_too() -> None:
    params = IndicatorParams(rsi_period=7, rsi_oversold=35, rsi_overbought=65, sma_periods=(10, 30),
                             trend_fast=10, trend_slow=30, divergence_swing=2)  # fmt: skip
    bars = random_walk_bars(260, seed=9, volatility=0.05)
    fast = rule_actions(prepare_bars(bars), params).actions
    slow = actions_at(bars, range(len(bars)), params)
    for name in (*RULE_NAMES[:-1], STANCE):
        assert _same(fast[name], slow[name]).all(), name


@pytest.mark.parametrize("n", [3, 10, 16, 40])
def test_short_histories_give_the_engine_s_answers_too(n: int) -> None:
    """A few bars: most rules give no signal yet, none fails (no swing, no crossing)."""
    bars = random_walk_bars(n, seed=n)
    fast = rule_actions(prepare_bars(bars), DEFAULT_PARAMS).actions
    slow = actions_at(bars, range(n))
    for name in RULE_NAMES:
        assert _same(fast[name], slow[name]).all(), name
