"""Walk-forward never trains on the days it scores, and finds no skill where there is none."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.unit.forecast.helpers import (
    TINY,
    future_in_volume_bars,
    synthetic_bars,
    tiny_report,
)
from tools.errors import InsufficientDataError
from tools.forecast import ForecastConfig, HorizonMetrics, walk_forward


def test_every_fold_trains_strictly_before_its_first_test_day() -> None:
    report = tiny_report()
    assert len(report.folds) == 2
    for fold in report.folds:
        assert fold.train_end < fold.test_start
    for fold in report.folds:
        origins = [
            r.origin
            for r in report.rows
            if r.horizon == 1 and fold.test_start <= r.target <= fold.test_end
        ]
        # the first test day's origin is the last training bar; every other origin is later
        assert min(origins) == fold.train_end
        assert len(origins) == 30
    assert report.folds[1].n_train_bars == report.folds[0].n_train_bars + 30  # expanding


def test_rows_pair_each_origin_with_the_close_h_days_later() -> None:
    bars = synthetic_bars(420, seed=11)
    report = tiny_report()
    close = bars["close"]
    h1 = report.rows_frame(horizon=1)
    h7 = report.rows_frame(horizon=7)
    assert len(h1) == 60 and len(h7) == 60 - 6  # targets after `end` are not scored
    for row in report.rows[:20]:
        assert row.actual == close[row.target] and row.naive == close[row.origin]
        assert (row.target - row.origin).days == row.horizon
        assert row.lower <= row.predicted <= row.upper
    widths: dict[object, dict[int, float]] = {}
    for row in report.rows:  # every row, not a sample
        assert row.actual == close[row.target] and row.naive == close[row.origin]
        assert (row.target - row.origin).days == row.horizon
        assert row.lower < row.predicted < row.upper
        widths.setdefault(row.origin, {})[row.horizon] = row.upper - row.lower
    both = [w for w in widths.values() if set(w) == {1, 7}]
    assert len(both) == 60 - 6  # origins whose 7-day target is inside the window
    assert all(w[7] > w[1] for w in both)  # from one origin, the band widens with the horizon
    assert h1["target"].iloc[0] == bars.index[360]
    assert [m.horizon for m in report.metrics] == [1, 7]
    json.dumps(report.to_dict(), allow_nan=False)


def test_same_data_and_seed_give_identical_metrics() -> None:
    bars = synthetic_bars(420, seed=11)
    again = walk_forward(
        bars, TINY, start=bars.index[360], end=bars.index[-1], horizons=(1, 7), refit_every=30
    )
    assert again.to_dict()["metrics"] == tiny_report().to_dict()["metrics"]
    assert again.to_dict()["rows"] == tiny_report().to_dict()["rows"]


def test_rewriting_later_days_does_not_change_earlier_predictions() -> None:
    bars = synthetic_bars(420, seed=11)
    rewritten = bars.copy()
    rewritten.iloc[405:, :4] *= 5.0  # mid-way through the second fold
    report = walk_forward(
        rewritten, TINY, start=bars.index[360], end=bars.index[-1], horizons=(1,), refit_every=30
    )
    base = tiny_report().rows_frame(horizon=1)
    rows = report.rows_frame(horizon=1)
    earlier = rows["origin"] < bars.index[405]
    assert earlier.sum() == 46  # origins 359..404
    np.testing.assert_array_equal(rows.loc[earlier, "predicted"], base.loc[earlier, "predicted"])
    np.testing.assert_array_equal(rows.loc[earlier, "upper"], base.loc[earlier, "upper"])


def test_a_random_walk_gives_no_skill_but_information_in_the_inputs_does() -> None:
    """If inputs contained the target (off-by-one windows, fits on test days), the random walk
    would show large skill like the positive control, whose volume announces tomorrow's move."""
    config = ForecastConfig(
        **{**TINY.model_dump(), "epochs": 15, "patience": 15, "learning_rate": 0.01}
    )

    def one_fold(bars: pd.DataFrame) -> HorizonMetrics:
        start = bars.index[440]
        report = walk_forward(
            bars, config, start=start, end=bars.index[-1], horizons=(1,), refit_every=60
        )
        return report.metrics_for(1)

    null = one_fold(synthetic_bars(500, seed=21))
    found = one_fold(future_in_volume_bars(500, seed=21))
    assert null.skill < 0.05
    assert found.skill > 0.3
    assert found.directional_accuracy > 0.75


def test_sliding_window_keeps_the_training_length() -> None:
    bars = synthetic_bars(400, seed=4)
    report = walk_forward(
        bars,
        TINY,
        start=bars.index[340],
        end=bars.index[-1],
        horizons=(1,),
        refit_every=30,
        window="sliding",
        train_size=250,
    )
    assert [f.n_train_bars for f in report.folds] == [250, 250]
    assert report.folds[1].train_start > report.folds[0].train_start


def test_invalid_requests_are_rejected() -> None:
    bars = synthetic_bars(200)
    with pytest.raises(ValueError):
        walk_forward(bars, TINY, start=bars.index[150], end=bars.index[-1], horizons=(8,))
    with pytest.raises(InsufficientDataError):
        walk_forward(bars, TINY, start=bars.index[10], end=bars.index[-1])
    with pytest.raises(InsufficientDataError):
        walk_forward(bars, TINY, start="2030-01-01", end="2030-02-01")
