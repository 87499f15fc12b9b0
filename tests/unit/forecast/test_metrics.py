"""Metrics against values computed by hand on a four-day example."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tools.forecast.metrics import directional_accuracy, horizon_metrics, skill

# origin closes (= naive), actual closes h days later, model prices and bands
NAIVE = np.array([100.0, 100.0, 200.0, 50.0])
ACTUAL = np.array([110.0, 90.0, 200.0, 40.0])
PREDICTED = np.array([105.0, 95.0, 190.0, 55.0])
LOWER = np.array([100.0, 92.0, 180.0, 45.0])
UPPER = np.array([112.0, 99.0, 210.0, 60.0])


def test_metrics_match_hand_computed_values() -> None:
    m = horizon_metrics(1, ACTUAL, PREDICTED, LOWER, UPPER, NAIVE, interval_level=0.8)
    # errors: 5, -5, 10, -15 -> |e| 5 5 10 15
    assert m.n == 4
    assert m.mae == pytest.approx(35 / 4)
    assert m.mse == pytest.approx((25 + 25 + 100 + 225) / 4)
    assert m.rmse == pytest.approx(math.sqrt(375 / 4))
    # percentage errors: 5/110, 5/90, 10/200, 15/40
    assert m.mape == pytest.approx((5 / 110 + 5 / 90 + 10 / 200 + 15 / 40) / 4 * 100)
    # naive errors: 10, 10, 0, 10
    assert m.naive_mae == pytest.approx(30 / 4)
    assert m.naive_rmse == pytest.approx(math.sqrt(300 / 4))
    assert m.naive_mape == pytest.approx((10 / 110 + 10 / 90 + 0 + 10 / 40) / 4 * 100)
    assert m.skill == pytest.approx(1 - (35 / 4) / (30 / 4))
    # directions vs origin: actual + - 0 -, predicted + - - + -> right, right, wrong, wrong
    assert m.directional_accuracy == pytest.approx(0.5)
    # inside the band: 110 yes, 90 no (92..99), 200 yes, 40 no (45..60)
    assert m.coverage == pytest.approx(0.5)
    assert m.up_share == pytest.approx(0.25)
    assert m.interval_level == 0.8


def test_perfect_model_has_full_skill_and_naive_has_none() -> None:
    assert skill(0.0, 3.0) == 1.0
    assert skill(3.0, 3.0) == 0.0
    assert skill(1.0, 0.0) == 0.0
    perfect = horizon_metrics(1, ACTUAL, ACTUAL, ACTUAL, ACTUAL, NAIVE)
    assert perfect.skill == 1.0 and perfect.mape == 0.0 and perfect.coverage == 1.0
    naive = horizon_metrics(1, ACTUAL, NAIVE, NAIVE, NAIVE, NAIVE)
    assert naive.skill == 0.0


def test_a_zero_predicted_change_is_not_a_correct_direction() -> None:
    origin = np.array([1.0, 1.0])
    assert directional_accuracy(np.array([2.0, 0.5]), origin, origin) == 0.0
    assert directional_accuracy(np.array([1.0, 1.0]), origin, origin) == 1.0


def test_mismatched_or_empty_inputs_are_rejected() -> None:
    with pytest.raises(ValueError):
        horizon_metrics(1, ACTUAL, PREDICTED[:2], LOWER, UPPER, NAIVE)
    empty = np.array([])
    with pytest.raises(ValueError):
        horizon_metrics(1, empty, empty, empty, empty, empty)
