"""Training is reproducible and bounded by train_end; forecasts respect as_of and their band."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.unit.forecast.helpers import TINY, synthetic_bars, tiny_model
from tools.errors import InsufficientDataError
from tools.forecast import train_model
from tools.forecast.train import residual_quantiles


def test_training_records_its_window_fingerprint_and_epochs() -> None:
    model = tiny_model()
    bars = synthetic_bars(400)
    assert model.train_start == bars.index[0] and model.train_end == bars.index[299]
    assert len(model.fingerprint) == 64
    assert 1 <= model.epochs_run <= TINY.epochs
    assert model.training_seconds > 0
    assert len(model.residual_quantiles) == TINY.horizon
    assert all(lo <= 0.0 <= hi for lo, hi in model.residual_quantiles)
    json.dumps(model.metadata(), allow_nan=False)


def test_same_data_and_seed_give_identical_models_and_progress_is_reported() -> None:
    bars = synthetic_bars(400)
    epochs: list[tuple[int, float, float]] = []
    again = train_model(
        bars, TINY, train_end=bars.index[299], progress=lambda *args: epochs.append(args)
    )
    first = tiny_model()
    assert again.residual_quantiles == first.residual_quantiles
    assert again.fingerprint == first.fingerprint and again.epochs_run == first.epochs_run
    assert again.predict(bars).log_returns == first.predict(bars).log_returns
    assert [e[0] for e in epochs] == list(range(1, again.epochs_run + 1))
    assert all(np.isfinite(loss) and np.isfinite(val) for _, loss, val in epochs)


def test_the_fingerprint_changes_with_the_training_data() -> None:
    bars = synthetic_bars(400)
    other = bars.copy()
    other.iloc[10, 3] *= 1.01
    changed = train_model(other, TINY, train_end=bars.index[299])
    assert changed.fingerprint != tiny_model().fingerprint
    later = train_model(other, TINY, train_end=bars.index[299])
    assert later.fingerprint == changed.fingerprint


def test_forecast_has_the_horizon_dates_and_a_band_around_the_price() -> None:
    bars = synthetic_bars(400)
    as_of = bars.index[349]
    forecast = tiny_model().predict(bars, as_of=as_of.date(), horizon=5)
    assert forecast.horizon == 5 and len(forecast.points) == 5
    assert forecast.as_of == as_of.to_pydatetime()
    assert forecast.last_close == pytest.approx(bars["close"].iloc[349])
    expected = [(as_of + pd.Timedelta(days=h)).date() for h in range(1, 6)]
    assert [p.date for p in forecast.points] == expected
    for point, log_return in zip(forecast.points, forecast.log_returns, strict=True):
        assert point.lower <= point.price <= point.upper
        assert point.lower < point.price < point.upper
        assert point.price == pytest.approx(forecast.last_close * np.exp(log_return))
    widths = [p.upper - p.lower for p in forecast.points]
    assert widths[-1] > widths[0]  # uncertainty grows with the horizon
    assert forecast.model.train_end == tiny_model().train_end.to_pydatetime()
    json.loads(forecast.model_dump_json())


def test_bars_after_as_of_do_not_change_the_forecast() -> None:
    bars = synthetic_bars(400)
    as_of = bars.index[330]
    rewritten = bars.copy()
    rewritten.iloc[331:, :4] *= 7.0
    model = tiny_model()
    base = model.predict(bars, as_of=as_of.date(), horizon=7)
    assert model.predict(rewritten, as_of=as_of.date(), horizon=7) == base
    assert model.predict(bars.iloc[:331], horizon=7) == base
    # a date-time is an instant: that day's bar counts only once it has closed
    assert model.predict(bars, as_of=as_of + pd.Timedelta(days=1), horizon=7) == base
    midday = model.predict(bars, as_of=as_of + pd.Timedelta(hours=12), horizon=7)
    assert midday == model.predict(bars.iloc[:330], horizon=7)
    assert model.predict(bars, as_of=bars.index[331].date(), horizon=7) != base


def test_default_horizon_and_invalid_requests() -> None:
    bars = synthetic_bars(400)
    model = tiny_model()
    assert model.predict(bars).horizon == TINY.horizon
    with pytest.raises(ValueError):
        model.predict(bars, horizon=TINY.horizon + 1)
    with pytest.raises(ValueError):
        model.predict(bars, horizon=0)
    with pytest.raises(InsufficientDataError):
        model.predict(bars, as_of=bars.index[5])


def test_residual_quantiles_borrow_sqrt_time_scaling_when_residuals_run_out() -> None:
    rng = np.random.default_rng(0)
    residuals = np.full((100, 4), np.nan)
    residuals[:, 0] = rng.normal(0, 0.01, 100)
    residuals[:50, 1] = rng.normal(0, 0.02, 50)
    residuals[:5, 2] = 0.5  # too few: borrowed from horizon 2
    quantiles = residual_quantiles(residuals, 0.8)
    low2, high2 = quantiles[1]
    assert quantiles[2] == pytest.approx((low2 * np.sqrt(1.5), high2 * np.sqrt(1.5)))
    assert quantiles[3] == pytest.approx((low2 * np.sqrt(2.0), high2 * np.sqrt(2.0)))
    assert np.quantile(residuals[:, 0], 0.1) == pytest.approx(quantiles[0][0])
    with pytest.raises(InsufficientDataError):
        residual_quantiles(np.full((10, 2), 0.1), 0.8)


def test_the_band_widens_with_recent_volatility() -> None:
    rng = np.random.default_rng(9)
    calm = np.concatenate([rng.normal(0, 0.03, 370), rng.normal(0, 0.005, 30)])
    wild = np.concatenate([calm[:370], rng.normal(0, 0.09, 30)])
    model = tiny_model()
    narrow = model.predict(synthetic_bars(400, returns=calm), horizon=1).points[0]
    wide = model.predict(synthetic_bars(400, returns=wild), horizon=1).points[0]
    assert (wide.upper - wide.lower) / wide.price > 5 * (narrow.upper - narrow.lower) / narrow.price
