"""Strategy backtests: trade a rule's readings, net of costs, against buy-and-hold.

The reading at a close sets the position from the next bar's open (long on buy; flat, or short
in long/short, on sell; flat on hold or no signal), so no trade uses the bar that produced its
signal. Each bar's return runs open to open (the last bar: open to close). Fees and slippage,
in basis points, are charged on every change of position. Vectorised numpy: the figures are a
few lines each, and a library would add a dependency tree for no extra rigour.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tools.backtest.models import EquityPoint, StrategyReport, StrategyStats

PERIODS_PER_YEAR = {"1d": 365.0, "1h": 365.0 * 24}
MAX_EQUITY_POINTS = 600


def holding_returns(open_: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Return of holding bar j: open j to open j+1, and open to close on the last bar."""
    out = np.empty(len(open_))
    out[:-1] = open_[1:] / open_[:-1] - 1.0
    out[-1] = close[-1] / open_[-1] - 1.0
    return out


def net_returns(position: np.ndarray, held: np.ndarray, cost: float) -> np.ndarray:
    """Per-bar returns of `position` (starting flat) with `cost` per unit of position change."""
    change = np.abs(np.diff(position, prepend=0.0))
    return (1.0 - cost * change) * (1.0 + position * held) - 1.0


def stats(returns: np.ndarray, position: np.ndarray, periods_per_year: float) -> StrategyStats:
    """Total and annual return, volatility, Sharpe, drawdown, exposure and trades."""
    equity = np.cumprod(np.maximum(1.0 + returns, 0.0))  # ruin is final: no more than all
    total = float(equity[-1] - 1.0) if len(equity) else 0.0
    years = len(returns) / periods_per_year
    annual = None  # not extrapolated from less than a year
    if years >= 1:
        annual = -1.0 if equity[-1] <= 0 else float(np.expm1(np.log(equity[-1]) / years))
    sd = float(np.std(returns, ddof=1)) if len(returns) > 1 else 0.0
    volatility = sd * math.sqrt(periods_per_year) if len(returns) > 1 else None
    sharpe = float(np.mean(returns)) / sd * math.sqrt(periods_per_year) if sd > 0 else None
    peaks = np.maximum.accumulate(np.concatenate([[1.0], equity]))[1:]
    drawdown = float(np.min(equity / peaks - 1.0)) if len(equity) else 0.0
    previous = np.concatenate([[0.0], position[:-1]])
    trades = int(np.sum((position != 0) & (position != previous)))
    return StrategyStats(
        total_return=total,
        annual_return=annual,
        volatility=volatility,
        sharpe=sharpe,
        max_drawdown=drawdown,
        exposure=float(np.mean(position != 0)) if len(position) else 0.0,
        trades=trades,
    )


def _equity_points(
    index: pd.DatetimeIndex, curves: list[np.ndarray], fmt: str, limit: int
) -> list[EquityPoint]:
    n = len(index)
    if n == 0:
        return []
    picks = np.unique(np.linspace(0, n - 1, min(n, limit)).round().astype(int))
    labels = index[picks].strftime(fmt)
    return [
        EquityPoint(
            date=str(label),
            long_flat=float(curves[0][i]),
            long_short=float(curves[1][i]),
            buy_hold=float(curves[2][i]),
        )
        for label, i in zip(labels, picks.tolist(), strict=True)
    ]


def backtest_strategy(
    action: np.ndarray,
    open_: np.ndarray,
    close: np.ndarray,
    index: pd.DatetimeIndex,
    first: int,
    last: int,
    *,
    interval: str = "1d",
    fee_bps: float = 10.0,
    slippage_bps: float = 5.0,
    max_points: int = MAX_EQUITY_POINTS,
) -> StrategyReport:
    """Trade the readings at closes `first`..`last - 1` over bars `first + 1`..`last`."""
    if last <= first:
        raise ValueError("the period needs at least two bars")
    cost = (fee_bps + slippage_bps) / 10_000.0
    held = holding_returns(open_[first + 1 : last + 1], close[first + 1 : last + 1])
    reading = np.nan_to_num(action[first:last], nan=0.0)
    long_flat = (reading > 0).astype(np.float64)
    long_short = reading.astype(np.float64)
    hold = np.ones(len(held))
    per_year = PERIODS_PER_YEAR[interval]
    series = [net_returns(p, held, cost) for p in (long_flat, long_short, hold)]
    series = [np.maximum(r, -1.0) for r in series]
    curves = [np.cumprod(1.0 + r) for r in series]
    fmt = "%Y-%m-%d" if interval == "1d" else "%Y-%m-%d %H:%M"
    flat_stats, short_stats, hold_stats = (
        stats(r, p, per_year) for r, p in zip(series, (long_flat, long_short, hold), strict=True)
    )
    return StrategyReport(
        fee_bps=fee_bps,
        slippage_bps=slippage_bps,
        long_flat=flat_stats,
        long_short=short_stats,
        buy_hold=hold_stats,
        beats_buy_hold=flat_stats.total_return > hold_stats.total_return,
        equity=_equity_points(index[first + 1 : last + 1], curves, fmt, max_points),
    )
