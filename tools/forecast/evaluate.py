"""Walk-forward evaluation: refit every `refit_every` days, never on the days being scored.

For a test day d the origin is the bar before it (d-1); the model that scores it was fitted on
bars strictly before the fold's first test day, so its training window ends at or before the
origin. The h-day target is the close h bars after the origin, kept only if it lies on or
before `end`. Every metric is computed beside the naive persistence forecast (origin close).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from tools.errors import InsufficientDataError
from tools.forecast.config import DEFAULT_CONFIG, ForecastConfig
from tools.forecast.dataset import bars_needed, head, inputs_at, load_bars, tail
from tools.forecast.metrics import HorizonMetrics, horizon_metrics
from tools.forecast.predict import price_band
from tools.forecast.train import train_model
from tools.indicators.bars import BarArrays, utc_day_start

Window = Literal["expanding", "sliding"]


class FoldInfo(BaseModel):
    """One refit: its training window (by bar dates) and the test days it scored."""

    index: int
    train_start: datetime
    train_end: datetime
    test_start: datetime
    test_end: datetime
    n_train_bars: int
    epochs_run: int
    training_seconds: float


class EvaluationRow(BaseModel):
    """One scored prediction: made at `origin` for `target` = origin + `horizon` bars."""

    origin: datetime
    target: datetime
    horizon: int
    actual: float
    predicted: float
    lower: float
    upper: float
    naive: float


class EvaluationReport(BaseModel):
    """Walk-forward result: metrics per horizon, the folds, and every scored row."""

    start: datetime
    end: datetime
    window: Window
    refit_every: int
    horizons: list[int]
    config: ForecastConfig
    folds: list[FoldInfo]
    metrics: list[HorizonMetrics]
    rows: list[EvaluationRow]
    seconds: float

    def metrics_for(self, horizon: int) -> HorizonMetrics:
        """The metrics of one horizon (KeyError when it was not evaluated)."""
        for item in self.metrics:
            if item.horizon == horizon:
                return item
        raise KeyError(f"horizon {horizon} was not evaluated")

    def rows_frame(self, horizon: int | None = None) -> pd.DataFrame:
        """The scored rows as a DataFrame (optionally one horizon), for plots and CSV."""
        frame = pd.DataFrame([row.model_dump() for row in self.rows])
        if horizon is not None and not frame.empty:
            frame = frame[frame["horizon"] == horizon].reset_index(drop=True)
        return frame

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (dates as ISO strings)."""
        return self.model_dump(mode="json")


#: Called after each fold with (fold number from 1, which is also how many folds are done,
#: number of folds, the fold): the last call has the first two equal.
FoldProgress = Callable[[int, int, FoldInfo], None]


def walk_forward(
    bars: pd.DataFrame,
    config: ForecastConfig = DEFAULT_CONFIG,
    *,
    start: datetime | date | str,
    end: datetime | date | str,
    horizons: Sequence[int] = (1, 7),
    refit_every: int = 30,
    window: Window = "expanding",
    train_size: int | None = None,
    progress: FoldProgress | None = None,
) -> EvaluationReport:
    """Score the model on every test day in [start, end] (dates, UTC), refitting per fold.

    `window="expanding"` trains on all bars before the fold; "sliding" on the last
    `train_size` bars (default: as many as the first fold has). Bars after `end` are ignored.
    """
    started = time.perf_counter()
    horizons = sorted(set(int(h) for h in horizons))
    if not horizons or horizons[0] < 1 or horizons[-1] > config.horizon:
        raise ValueError(f"horizons must lie in 1..{config.horizon} (the model's horizon)")
    if refit_every < 1:
        raise ValueError("refit_every must be at least 1")
    arrays = load_bars(bars, end)
    first = int(arrays.index.searchsorted(utc_day_start(start), side="left"))
    last = arrays.n - 1
    if first > last:
        raise InsufficientDataError(f"no bars between {start} and {end}")
    if first < bars_needed(config) + 1:
        raise InsufficientDataError("not enough bars before the evaluation window to train")
    size = train_size if train_size is not None else first
    test_days = np.arange(first, last + 1)
    chunks = [test_days[i : i + refit_every] for i in range(0, len(test_days), refit_every)]
    folds: list[FoldInfo] = []
    rows: list[EvaluationRow] = []
    for number, chunk in enumerate(chunks, start=1):
        train_stop = int(chunk[0])  # bars [lo, train_stop) train; chunk[0] is the first test day
        lo = 0 if window == "expanding" else max(0, train_stop - size)
        train_end = arrays.index[train_stop - 1]
        if not train_end < arrays.index[chunk[0]]:
            raise AssertionError("look-ahead: a fold would train on its own test days")
        train_bars = _frame(tail(head(arrays, train_stop), lo))
        trained = train_model(train_bars, config, train_end=train_end)
        if not trained.train_end < arrays.index[chunk[0]]:
            raise AssertionError("look-ahead: the fitted window reaches a test day")
        origins = chunk - 1
        visible = head(arrays, int(origins[-1]) + 1)  # nothing after the last origin
        x = inputs_at(visible, origins, config, trained.scaler)
        log_returns = trained.predict_log_returns(x)
        scales = trained.band_scale(visible, origins)
        for i, origin in enumerate(origins):
            close = float(arrays.close[origin])
            price, lower, upper = price_band(
                close, log_returns[i], trained.residual_quantiles, float(scales[i])
            )
            for h in horizons:
                if origin + h > last:
                    continue
                rows.append(
                    EvaluationRow(
                        origin=arrays.index[origin].to_pydatetime(),
                        target=arrays.index[origin + h].to_pydatetime(),
                        horizon=h,
                        actual=float(arrays.close[origin + h]),
                        predicted=float(price[h - 1]),
                        lower=float(lower[h - 1]),
                        upper=float(upper[h - 1]),
                        naive=close,
                    )
                )
        fold = FoldInfo(
            index=number,
            train_start=trained.train_start.to_pydatetime(),
            train_end=trained.train_end.to_pydatetime(),
            test_start=arrays.index[chunk[0]].to_pydatetime(),
            test_end=arrays.index[chunk[-1]].to_pydatetime(),
            n_train_bars=train_stop - lo,
            epochs_run=trained.epochs_run,
            training_seconds=trained.training_seconds,
        )
        folds.append(fold)
        if progress is not None:
            progress(number, len(chunks), fold)
    return EvaluationReport(
        start=arrays.index[first].to_pydatetime(),
        end=arrays.index[last].to_pydatetime(),
        window=window,
        refit_every=refit_every,
        horizons=horizons,
        config=config,
        folds=folds,
        metrics=_metrics(rows, horizons, config.interval_level),
        rows=rows,
        seconds=round(time.perf_counter() - started, 3),
    )


def _frame(arrays: BarArrays) -> pd.DataFrame:
    """A `BarArrays` back to the engine's input frame."""
    return pd.DataFrame(
        {
            "open": arrays.open,
            "high": arrays.high,
            "low": arrays.low,
            "close": arrays.close,
            "volume": arrays.volume,
        },
        index=arrays.index,
    )


def _metrics(rows: list[EvaluationRow], horizons: list[int], level: float) -> list[HorizonMetrics]:
    out = []
    for h in horizons:
        chosen = [r for r in rows if r.horizon == h]
        if not chosen:
            continue
        columns = {
            name: np.array([getattr(r, name) for r in chosen])
            for name in ("actual", "predicted", "lower", "upper", "naive")
        }
        out.append(horizon_metrics(h, **columns, interval_level=level))
    return out
