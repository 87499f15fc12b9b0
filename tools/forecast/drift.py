"""Drift checks: has the input distribution moved, and has the model stopped beating naive?

Input drift compares recent daily log returns with the training window's: the PSI (population
stability index) over decile bins of the training returns, and the two-sample Kolmogorov-
Smirnov statistic with its asymptotic p-value (implemented here; SciPy is not a dependency).
Performance drift compares the rolling realised MAE of served forecasts with the naive one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime

import numpy as np
import pandas as pd
from pydantic import BaseModel

from tools.errors import InsufficientDataError
from tools.forecast.dataset import as_of_label, cut_position, load_bars
from tools.indicators.bars import AsOf, utc_day_start

PSI_THRESHOLD = 0.2
KS_ALPHA = 0.01


class InputDrift(BaseModel):
    """Recent returns vs the training window.

    `psi_floor` is the PSI expected between two samples of the same distribution at these
    sizes, (bins - 1) * (1/n_recent + 1/n_reference): about 0.3 for 30 recent days, which is
    above the usual 0.2 rule of thumb. The PSI flag therefore fires when psi - psi_floor > 0.2.
    """

    n_reference: int
    n_recent: int
    psi: float
    psi_floor: float
    psi_flag: bool
    ks_statistic: float
    ks_pvalue: float
    ks_flag: bool
    drift: bool


class PerformanceDrift(BaseModel):
    """Realised MAE of the model vs naive over the last `window` scored forecasts."""

    n: int
    window: int
    mae_model: float | None
    mae_naive: float | None
    ratio: float | None
    margin: float
    flag: bool


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """Population stability index of `current` over the quantile bins of `reference`.

    Empty bins get a share of 1e-4 so the log stays finite.
    """
    edges = np.quantile(reference, np.linspace(0.0, 1.0, bins + 1)[1:-1])
    expected = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=bins)
    actual = np.bincount(np.searchsorted(edges, current, side="right"), minlength=bins)
    e = np.maximum(expected / len(reference), 1e-4)
    a = np.maximum(actual / len(current), 1e-4)
    return float(np.sum((a - e) * np.log(a / e)))


def kolmogorov_pvalue(statistic: float, n: int, m: int) -> float:
    """Asymptotic p-value of the two-sample KS statistic (Stephens' small-sample correction)."""
    en = math.sqrt(n * m / (n + m))
    lam = (en + 0.12 + 0.11 / en) * statistic
    if lam < 1e-3:
        return 1.0
    total = sum(2.0 * (-1) ** (k - 1) * math.exp(-2.0 * k * k * lam * lam) for k in range(1, 101))
    return float(min(1.0, max(0.0, total)))


def ks_2samp(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Two-sample KS statistic sup|F_a - F_b| and its asymptotic p-value."""
    a, b = np.sort(np.asarray(a, dtype=float)), np.sort(np.asarray(b, dtype=float))
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / len(a)
    cdf_b = np.searchsorted(b, grid, side="right") / len(b)
    statistic = float(np.max(np.abs(cdf_a - cdf_b)))
    return statistic, kolmogorov_pvalue(statistic, len(a), len(b))


def input_drift(
    reference: Sequence[float] | np.ndarray,
    recent: Sequence[float] | np.ndarray,
    *,
    psi_threshold: float = PSI_THRESHOLD,
    ks_alpha: float = KS_ALPHA,
    bins: int = 10,
) -> InputDrift:
    """Compare two samples of returns; flags when the PSI or the KS test says they differ."""
    ref, cur = np.asarray(reference, dtype=float), np.asarray(recent, dtype=float)
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if len(ref) < 2 * bins or len(cur) < 5:
        raise InsufficientDataError(
            f"drift needs >= {2 * bins} reference and >= 5 recent returns "
            f"({len(ref)} and {len(cur)} given)"
        )
    value = psi(ref, cur, bins)
    floor = (bins - 1) * (1.0 / len(cur) + 1.0 / len(ref))
    statistic, pvalue = ks_2samp(ref, cur)
    psi_flag = value - floor > psi_threshold
    ks_flag = pvalue < ks_alpha
    return InputDrift(
        n_reference=len(ref),
        n_recent=len(cur),
        psi=value,
        psi_floor=floor,
        psi_flag=psi_flag,
        ks_statistic=statistic,
        ks_pvalue=pvalue,
        ks_flag=ks_flag,
        drift=psi_flag or ks_flag,
    )


def return_drift(
    bars: pd.DataFrame,
    *,
    train_start: datetime | date | str,
    train_end: datetime | date | str,
    as_of: AsOf = None,
    recent_days: int = 30,
) -> InputDrift:
    """Input drift of the last `recent_days` returns up to `as_of` vs the training window.

    Pass a model's `train_start`/`train_end`; recent returns after `train_end` only are used,
    so the two samples never overlap.
    """
    arrays = load_bars(bars, as_of_label(as_of))
    returns = np.diff(np.log(arrays.close))  # returns[i - 1] is the move into bar i
    start = utc_day_start(train_start)
    first = max(int(arrays.index.searchsorted(start, side="left")), 1)
    stop = cut_position(arrays, train_end)
    reference = returns[first - 1 : stop - 1]
    recent = returns[max(stop, arrays.n - recent_days, 1) - 1 :]
    return input_drift(reference, recent)


def performance_drift(
    scored: Sequence[tuple[float, float, float]], *, window: int = 30, margin: float = 0.1
) -> PerformanceDrift:
    """Rolling realised MAE of the model vs naive on scored (actual, predicted, naive) triples.

    Flags when, over the last `window` scored forecasts, the model's MAE exceeds the naive MAE
    by more than `margin` (0.1 = 10% worse). Needs a full window to flag at all.
    """
    recent = np.asarray(list(scored)[-window:], dtype=float).reshape(-1, 3)
    if len(recent) == 0:
        return PerformanceDrift(
            n=0,
            window=window,
            mae_model=None,
            mae_naive=None,
            ratio=None,
            margin=margin,
            flag=False,
        )
    actual, predicted, naive = recent.T
    mae_model = float(np.mean(np.abs(actual - predicted)))
    mae_naive = float(np.mean(np.abs(actual - naive)))
    ratio = mae_model / mae_naive if mae_naive > 0 else None
    flag = len(recent) >= window and ratio is not None and ratio > 1.0 + margin
    return PerformanceDrift(
        n=len(recent),
        window=window,
        mae_model=mae_model,
        mae_naive=mae_naive,
        ratio=ratio,
        margin=margin,
        flag=flag,
    )
