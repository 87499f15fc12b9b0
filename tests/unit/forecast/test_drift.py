"""Drift: identical distributions raise no flag, shifted ones do; KS matches known values."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.forecast.helpers import synthetic_bars
from tools.forecast import input_drift, ks_2samp, performance_drift, psi, return_drift
from tools.forecast.drift import kolmogorov_pvalue


def test_identical_distributions_raise_no_flag() -> None:
    rng = np.random.default_rng(1)
    reference = rng.standard_t(4, 3000) * 0.02
    recent = rng.standard_t(4, 30) * 0.02
    result = input_drift(reference, recent)
    assert not result.drift and not result.psi_flag and not result.ks_flag
    assert result.n_recent == 30 and result.n_reference == 3000
    assert result.psi_floor == pytest.approx(9 * (1 / 30 + 1 / 3000))
    assert psi(reference, reference) == pytest.approx(0.0, abs=1e-12)


def test_a_shift_in_level_or_volatility_is_flagged() -> None:
    rng = np.random.default_rng(2)
    reference = rng.normal(0.0, 0.02, 3000)
    shifted = input_drift(reference, rng.normal(0.03, 0.02, 30))
    assert shifted.drift and shifted.ks_flag and shifted.psi_flag
    wilder = input_drift(reference, rng.normal(0.0, 0.08, 60))
    assert wilder.drift and wilder.psi_flag


def test_ks_statistic_and_pvalue_match_reference_values() -> None:
    statistic, pvalue = ks_2samp(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]))
    assert statistic == 1.0 and pvalue < 0.1
    same, p_same = ks_2samp(np.arange(100.0), np.arange(100.0))
    assert same == 0.0 and p_same == 1.0
    # the 1% critical value of the asymptotic distribution is about 1.628 / sqrt(n m / (n + m))
    n = m = 2000
    critical = 1.6276 / np.sqrt(n * m / (n + m))
    assert kolmogorov_pvalue(critical, n, m) == pytest.approx(0.01, rel=0.05)


def test_return_drift_compares_recent_returns_with_the_training_window() -> None:
    returns = np.concatenate([np.random.default_rng(3).normal(0, 0.02, 370), np.full(30, 0.08)])
    bars = synthetic_bars(400, returns=returns)
    calm = return_drift(
        bars, train_start=bars.index[0], train_end=bars.index[299], as_of=bars.index[369]
    )
    assert calm.n_reference == 299 and calm.n_recent == 30 and not calm.drift
    stormy = return_drift(bars, train_start=bars.index[0], train_end=bars.index[299])
    assert stormy.drift


def test_performance_drift_flags_a_model_worse_than_naive() -> None:
    good = [(100.0 + i, 100.0 + i + 0.5, 100.0 + i - 1.0) for i in range(40)]
    bad = [(100.0, 103.0, 101.0)] * 30
    assert not performance_drift(good).flag
    result = performance_drift(good + bad, window=30, margin=0.1)
    assert result.flag and result.ratio == pytest.approx(3.0) and result.n == 30
    assert not performance_drift(bad[:10], window=30).flag  # not a full window yet
    assert performance_drift([]).mae_model is None
