"""Features, targets and the scaler: trailing windows only, fitted on the training window only."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.unit.forecast.helpers import TINY, synthetic_bars
from tools.errors import InsufficientDataError, InvalidBarsError
from tools.forecast.config import FEATURE_NAMES, ForecastConfig
from tools.forecast.dataset import (
    Scaler,
    build_training_set,
    feature_matrix,
    load_bars,
    lookback,
    target_matrix,
    windows,
)

ALL = ForecastConfig(**{**TINY.model_dump(), "features": FEATURE_NAMES})


def test_features_are_trailing_changing_the_future_changes_nothing_before_it() -> None:
    bars = synthetic_bars(120)
    base = feature_matrix(load_bars(bars), FEATURE_NAMES)
    changed = bars.copy()
    changed.iloc[80:, :4] *= 3.0
    changed.iloc[80:, 4] *= 50.0
    after = feature_matrix(load_bars(changed), FEATURE_NAMES)
    np.testing.assert_array_equal(base[:80], after[:80])
    assert not np.allclose(base[80:], after[80:], equal_nan=True)
    lb = lookback(FEATURE_NAMES)
    assert np.isfinite(base[lb:]).all() and np.isnan(base[:lb]).any(axis=1).all()


def test_features_on_a_tail_equal_features_on_the_full_history() -> None:
    arrays = load_bars(synthetic_bars(200))
    full = feature_matrix(arrays, FEATURE_NAMES)
    short = feature_matrix(load_bars(synthetic_bars(200).iloc[150:]), FEATURE_NAMES)
    lb = lookback(FEATURE_NAMES)
    np.testing.assert_allclose(short[lb:], full[150 + lb :], rtol=1e-12, atol=1e-15)


def test_targets_are_cumulative_log_returns_and_nan_past_the_end() -> None:
    close = np.array([100.0, 110.0, 99.0, 120.0])
    y = target_matrix(close, 2)
    assert y[0, 0] == pytest.approx(np.log(1.1))
    assert y[0, 1] == pytest.approx(np.log(0.99))
    assert y[1, 1] == pytest.approx(np.log(120 / 110))
    assert np.isnan(y[3]).all() and np.isnan(y[2, 1]) and np.isfinite(y[2, 0])


def test_the_scaler_never_sees_data_after_train_end() -> None:
    bars = synthetic_bars(300)
    cut = bars.index[199]
    shocked = bars.copy()
    shocked.iloc[200:, :4] *= 1000.0  # an extreme outlier right after train_end
    shocked.iloc[250:, 4] = 1e15
    truncated = build_training_set(load_bars(bars, cut), ALL)
    with_future = build_training_set(load_bars(shocked, cut), ALL)
    assert with_future.scaler == truncated.scaler
    assert with_future.train_end == cut
    # the same fit on the whole shocked frame is visibly different: the check has teeth
    everything = build_training_set(load_bars(shocked), ALL)
    assert everything.scaler != truncated.scaler


def test_training_targets_never_reach_into_the_validation_slice() -> None:
    data = build_training_set(load_bars(synthetic_bars(300)), TINY)
    n_val, horizon = len(data.x_val), TINY.horizon
    assert n_val == round((len(data.x_train) + n_val) * TINY.validation_fraction)
    # origin v0 - k keeps horizons 1..k only: no target lies after the first validation origin
    finite = np.isfinite(data.y_train[-horizon:])
    for row in range(horizon):
        assert finite[row].sum() == horizon - row
    assert np.isfinite(data.y_train[:-horizon]).all()
    assert np.isnan(data.y_val[-1, 1:]).all() and np.isfinite(data.y_val[-1, 0])


def test_scaler_state_round_trips_through_json() -> None:
    scaler = build_training_set(load_bars(synthetic_bars(300)), TINY).scaler
    assert Scaler.from_dict(json.loads(json.dumps(scaler.to_dict()))) == scaler
    clipped = scaler.features(np.full((1, len(TINY.features)), 1e9))
    assert (clipped == TINY.clip).all()


def test_windows_end_at_their_origin() -> None:
    values = np.arange(20, dtype=float).reshape(10, 2)
    out = windows(values, np.array([3, 9]), 4)
    assert out.shape == (2, 4, 2)
    np.testing.assert_array_equal(out[0, :, 0], [0, 2, 4, 6])
    np.testing.assert_array_equal(out[1, -1], [18, 19])


def test_too_few_bars_or_bad_prices_are_reported() -> None:
    with pytest.raises(InsufficientDataError):
        build_training_set(load_bars(synthetic_bars(50)), TINY)
    bars = synthetic_bars(100)
    bars.iloc[5, 3] = -1.0
    with pytest.raises(InvalidBarsError):
        load_bars(bars)


def test_config_rejects_unknown_features_and_horizons() -> None:
    with pytest.raises(ValueError):
        ForecastConfig(features=("log_return", "astrology"))
    with pytest.raises(ValueError):
        ForecastConfig(horizon=31)
