"""The indicator panel: TA-Lib series for every requested group, and their latest values.

Each group is one or a few TA-Lib calls on the contiguous float64 arrays of `BarArrays`.
Latest values are reported as finite floats or `None` with a reason, never NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from tools.indicators.bars import BarArrays
from tools.indicators.params import IndicatorParams

# A TA-Lib function name with its parameters, used to ask TA-Lib for its lookback.
LookbackSpec = tuple[str, tuple[tuple[str, float], ...]]


@dataclass(slots=True)
class Panel:
    """Indicator series keyed by value name, with what each needs to be defined."""

    series: dict[str, np.ndarray] = field(default_factory=dict)
    specs: dict[str, LookbackSpec] = field(default_factory=dict)

    def add(self, key: str, values: np.ndarray, spec: LookbackSpec) -> None:
        """Store one series and the TA-Lib call that defines its warm-up."""
        self.series[key] = values
        self.specs[key] = spec


def _talib() -> Any:
    import talib

    return talib


def _rsi(p: Panel, b: BarArrays, q: IndicatorParams, ta: Any) -> None:
    p.add(
        f"rsi_{q.rsi_period}",
        ta.RSI(b.close, q.rsi_period),
        ("RSI", (("timeperiod", q.rsi_period),)),
    )


def _macd(p: Panel, b: BarArrays, q: IndicatorParams, ta: Any) -> None:
    line, signal, hist = ta.MACD(b.close, q.macd_fast, q.macd_slow, q.macd_signal)
    spec: LookbackSpec = (
        "MACD",
        (("fastperiod", q.macd_fast), ("slowperiod", q.macd_slow), ("signalperiod", q.macd_signal)),
    )
    p.add("macd", line, spec)
    p.add("macd_signal", signal, spec)
    p.add("macd_hist", hist, spec)


def _bbands(p: Panel, b: BarArrays, q: IndicatorParams, ta: Any) -> None:
    upper, middle, lower = ta.BBANDS(b.close, q.bb_period, q.bb_std, q.bb_std, ta.MA_Type.SMA)
    spec: LookbackSpec = ("BBANDS", (("timeperiod", q.bb_period),))
    width = upper - lower
    with np.errstate(divide="ignore", invalid="ignore"):
        percent_b = (b.close - lower) / width
        bandwidth = width / middle
    for key, values in (
        ("bb_upper", upper),
        ("bb_middle", middle),
        ("bb_lower", lower),
        ("bb_percent_b", percent_b),
        ("bb_bandwidth", bandwidth),
    ):
        p.add(key, values, spec)


def _sma(p: Panel, b: BarArrays, q: IndicatorParams, ta: Any) -> None:
    for period in q.sma_periods:
        p.add(f"sma_{period}", ta.SMA(b.close, period), ("SMA", (("timeperiod", period),)))


def _ema(p: Panel, b: BarArrays, q: IndicatorParams, ta: Any) -> None:
    for period in q.ema_periods:
        p.add(f"ema_{period}", ta.EMA(b.close, period), ("EMA", (("timeperiod", period),)))


def _stoch(p: Panel, b: BarArrays, q: IndicatorParams, ta: Any) -> None:
    k, d = ta.STOCH(
        b.high,
        b.low,
        b.close,
        q.stoch_k,
        q.stoch_k_smooth,
        ta.MA_Type.SMA,
        q.stoch_d,
        ta.MA_Type.SMA,
    )
    spec: LookbackSpec = (
        "STOCH",
        (
            ("fastk_period", q.stoch_k),
            ("slowk_period", q.stoch_k_smooth),
            ("slowd_period", q.stoch_d),
        ),
    )
    p.add("stoch_k", k, spec)
    p.add("stoch_d", d, spec)


def _willr(p: Panel, b: BarArrays, q: IndicatorParams, ta: Any) -> None:
    values = ta.WILLR(b.high, b.low, b.close, q.willr_period)
    p.add(f"willr_{q.willr_period}", values, ("WILLR", (("timeperiod", q.willr_period),)))


def _cci(p: Panel, b: BarArrays, q: IndicatorParams, ta: Any) -> None:
    values = ta.CCI(b.high, b.low, b.close, q.cci_period)
    p.add(f"cci_{q.cci_period}", values, ("CCI", (("timeperiod", q.cci_period),)))


def _adx(p: Panel, b: BarArrays, q: IndicatorParams, ta: Any) -> None:
    n = q.adx_period
    arg = (("timeperiod", n),)
    p.add(f"adx_{n}", ta.ADX(b.high, b.low, b.close, n), ("ADX", arg))
    p.add("plus_di", ta.PLUS_DI(b.high, b.low, b.close, n), ("PLUS_DI", arg))
    p.add("minus_di", ta.MINUS_DI(b.high, b.low, b.close, n), ("MINUS_DI", arg))


def _atr(p: Panel, b: BarArrays, q: IndicatorParams, ta: Any) -> None:
    values = ta.ATR(b.high, b.low, b.close, q.atr_period)
    p.add(f"atr_{q.atr_period}", values, ("ATR", (("timeperiod", q.atr_period),)))


def _obv(p: Panel, b: BarArrays, q: IndicatorParams, ta: Any) -> None:
    p.add("obv", ta.OBV(b.close, b.volume), ("OBV", ()))


def _mfi(p: Panel, b: BarArrays, q: IndicatorParams, ta: Any) -> None:
    values = ta.MFI(b.high, b.low, b.close, b.volume, q.mfi_period)
    p.add(f"mfi_{q.mfi_period}", values, ("MFI", (("timeperiod", q.mfi_period),)))


def _roc(p: Panel, b: BarArrays, q: IndicatorParams, ta: Any) -> None:
    values = ta.ROC(b.close, q.roc_period)
    p.add(f"roc_{q.roc_period}", values, ("ROC", (("timeperiod", q.roc_period),)))


def _sar(p: Panel, b: BarArrays, q: IndicatorParams, ta: Any) -> None:
    values = ta.SAR(b.high, b.low, q.sar_acceleration, q.sar_maximum)
    spec: LookbackSpec = ("SAR", (("acceleration", q.sar_acceleration), ("maximum", q.sar_maximum)))
    p.add("sar", values, spec)


_GROUPS: dict[str, Callable[[Panel, BarArrays, IndicatorParams, Any], None]] = {
    "rsi": _rsi,
    "macd": _macd,
    "bbands": _bbands,
    "sma": _sma,
    "ema": _ema,
    "stoch": _stoch,
    "willr": _willr,
    "cci": _cci,
    "adx": _adx,
    "atr": _atr,
    "obv": _obv,
    "mfi": _mfi,
    "roc": _roc,
    "sar": _sar,
}


def compute_panel(bars: BarArrays, groups: Iterable[str], params: IndicatorParams) -> Panel:
    """Run the TA-Lib calls of every requested group (`patterns` is handled elsewhere)."""
    ta = _talib()
    panel = Panel()
    for group in groups:
        builder = _GROUPS.get(group)
        if builder is not None:
            builder(panel, bars, params, ta)
    return panel


@lru_cache(maxsize=512)
def required_bars(spec: LookbackSpec) -> int:
    """Bars a TA-Lib call needs before its first defined value (its lookback + 1)."""
    from talib import abstract

    name, args = spec
    function = abstract.Function(name)  # type: ignore[attr-defined]
    if args:
        function.set_parameters(dict(args))
    return int(function.lookback) + 1


def _undefined_reason(key: str, panel: Panel, n: int) -> str:
    need = required_bars(panel.specs[key])
    if n < need:
        return f"needs {need} bars, have {n}"
    if key == "bb_percent_b":
        return "Bollinger bands have zero width on the latest bar"
    return "undefined on the latest bar (division by zero: flat prices or zero volume)"


def latest_values(panel: Panel, bars: BarArrays) -> tuple[dict[str, float | None], dict[str, str]]:
    """Last value of every series as a finite float, or `None` plus a reason."""
    values: dict[str, float | None] = {"close": float(bars.close[-1])}
    unavailable: dict[str, str] = {}
    for key, series in panel.series.items():
        last = float(series[-1])
        if math.isfinite(last):
            values[key] = last
        else:
            values[key] = None
            unavailable[key] = _undefined_reason(key, panel, bars.n)
    return values, unavailable


def panel_frame(bars: BarArrays, panel: Panel) -> pd.DataFrame:
    """OHLCV plus every indicator series as one DataFrame (NaN where undefined), for charts."""
    data: dict[str, np.ndarray] = {
        "open": bars.open,
        "high": bars.high,
        "low": bars.low,
        "close": bars.close,
        "volume": bars.volume,
    }
    for key, series in panel.series.items():
        data[key] = np.where(np.isfinite(series), series, np.nan)
    return pd.DataFrame(data, index=bars.index)
