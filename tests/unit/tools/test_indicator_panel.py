"""The indicator panel reports exactly what TA-Lib computes, handles short history honestly and
rejects unknown indicator names with the list of valid ones."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
import talib

from tests.unit.tools.synthetic import bars_from_closes, random_walk_bars
from tools.errors import InsufficientDataError, InvalidBarsError, UnknownIndicatorError
from tools.indicators import (
    INDICATOR_NAMES,
    IndicatorParams,
    TechnicalEngine,
    indicator_frame,
)

ENGINE = TechnicalEngine()


def _arrays(bars: pd.DataFrame) -> tuple[np.ndarray, ...]:
    return tuple(bars[c].to_numpy(dtype=float) for c in ("open", "high", "low", "close", "volume"))


def _talib_expected(bars: pd.DataFrame, p: IndicatorParams) -> dict[str, float]:
    """Every panel value computed by calling TA-Lib directly, last bar only."""
    _, h, lo, c, v = _arrays(bars)
    macd, macd_signal, macd_hist = talib.MACD(c, p.macd_fast, p.macd_slow, p.macd_signal)
    upper, middle, lower = talib.BBANDS(c, p.bb_period, p.bb_std, p.bb_std, talib.MA_Type.SMA)
    k, d = talib.STOCH(
        h, lo, c, p.stoch_k, p.stoch_k_smooth, talib.MA_Type.SMA, p.stoch_d, talib.MA_Type.SMA
    )
    expected = {
        "close": c[-1],
        f"rsi_{p.rsi_period}": talib.RSI(c, p.rsi_period)[-1],
        "macd": macd[-1],
        "macd_signal": macd_signal[-1],
        "macd_hist": macd_hist[-1],
        "bb_upper": upper[-1],
        "bb_middle": middle[-1],
        "bb_lower": lower[-1],
        "bb_percent_b": (c[-1] - lower[-1]) / (upper[-1] - lower[-1]),
        "bb_bandwidth": (upper[-1] - lower[-1]) / middle[-1],
        "stoch_k": k[-1],
        "stoch_d": d[-1],
        f"willr_{p.willr_period}": talib.WILLR(h, lo, c, p.willr_period)[-1],
        f"cci_{p.cci_period}": talib.CCI(h, lo, c, p.cci_period)[-1],
        f"adx_{p.adx_period}": talib.ADX(h, lo, c, p.adx_period)[-1],
        "plus_di": talib.PLUS_DI(h, lo, c, p.adx_period)[-1],
        "minus_di": talib.MINUS_DI(h, lo, c, p.adx_period)[-1],
        f"atr_{p.atr_period}": talib.ATR(h, lo, c, p.atr_period)[-1],
        "obv": talib.OBV(c, v)[-1],
        f"mfi_{p.mfi_period}": talib.MFI(h, lo, c, v, p.mfi_period)[-1],
        f"roc_{p.roc_period}": talib.ROC(c, p.roc_period)[-1],
        "sar": talib.SAR(h, lo, p.sar_acceleration, p.sar_maximum)[-1],
    }
    for period in p.sma_periods:
        expected[f"sma_{period}"] = talib.SMA(c, period)[-1]
    for period in p.ema_periods:
        expected[f"ema_{period}"] = talib.EMA(c, period)[-1]
    return {key: float(value) for key, value in expected.items()}


@pytest.mark.parametrize(
    "params",
    [
        IndicatorParams(),
        IndicatorParams(
            rsi_period=7,
            macd_fast=5,
            macd_slow=35,
            macd_signal=5,
            bb_period=10,
            bb_std=1.5,
            sma_periods=(10, 30, 100),
            ema_periods=(9, 21),
            trend_fast=30,
            trend_slow=100,
            stoch_k=5,
            willr_period=10,
            cci_period=14,
            adx_period=10,
            atr_period=5,
            mfi_period=10,
            roc_period=3,
            sar_acceleration=0.01,
            sar_maximum=0.1,
        ),
    ],
    ids=["defaults", "custom"],
)
def test_every_value_equals_talib_called_directly(params: IndicatorParams) -> None:
    bars = random_walk_bars(500, seed=11)
    report = ENGINE.analyze(bars, symbol="TEST-USD", params=params)
    expected = _talib_expected(bars, params)
    assert set(report.values) == set(expected)
    assert report.values == expected  # exact: same inputs, same TA-Lib calls, no drift
    assert report.unavailable == {}


def test_default_value_keys_are_the_documented_flat_names() -> None:
    report = ENGINE.analyze(random_walk_bars(300), symbol="TEST-USD")
    documented = [
        "close", "rsi_14", "macd", "macd_signal", "macd_hist", "bb_upper", "bb_middle",
        "bb_lower", "bb_percent_b", "bb_bandwidth", "sma_20", "sma_50", "sma_200", "ema_20",
        "ema_50", "ema_200", "stoch_k", "stoch_d", "willr_14", "cci_20", "adx_14", "plus_di",
        "minus_di", "atr_14", "obv", "mfi_14", "roc_10", "sar",
    ]  # fmt: skip
    assert sorted(report.values) == sorted(documented)


def _wilder_rsi(closes: list[float], period: int) -> float:
    """RSI by hand: simple average of the first `period` gains/losses, then Wilder smoothing."""
    changes = [b - a for a, b in pairwise(closes)]
    gains = [max(x, 0.0) for x in changes]
    losses = [max(-x, 0.0) for x in changes]
    avg_gain = sum(gains[:period]) / period
    avg_loss = sum(losses[:period]) / period
    for gain, loss in zip(gains[period:], losses[period:], strict=True):
        avg_gain = (avg_gain * (period - 1) + gain) / period
        avg_loss = (avg_loss * (period - 1) + loss) / period
    return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)


def test_rsi_equals_a_hand_computed_wilder_rsi() -> None:
    closes = [
        44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08, 45.89, 46.03,
        45.61, 46.28, 46.28, 46.00, 46.03, 46.41, 46.22, 45.64, 46.21, 46.25, 45.71, 46.45,
    ]  # fmt: skip
    report = ENGINE.analyze(bars_from_closes(closes), symbol="TEST-USD", indicators=["rsi"])
    assert report.values["rsi_14"] == pytest.approx(_wilder_rsi(closes, 14), abs=1e-9)


def test_sma_on_a_tiny_series_equals_the_plain_average() -> None:
    closes = [10.0, 11.0, 12.0, 13.0, 15.0, 14.0, 16.0]
    params = IndicatorParams(sma_periods=(3, 5), trend_fast=3, trend_slow=5)
    report = ENGINE.analyze(
        bars_from_closes(closes), symbol="TEST-USD", indicators=["sma"], params=params
    )
    assert report.values["sma_3"] == pytest.approx((15.0 + 14.0 + 16.0) / 3, abs=1e-12)
    assert report.values["sma_5"] == pytest.approx((12.0 + 13.0 + 15.0 + 14.0 + 16.0) / 5)


def test_too_short_history_gives_none_with_reason_and_json_safe_output() -> None:
    bars = random_walk_bars(57)
    report = ENGINE.analyze(bars, symbol="TEST-USD")
    assert report.values["sma_200"] is None
    assert report.unavailable["sma_200"] == "needs 200 bars, have 57"
    assert report.unavailable["ema_200"] == "needs 200 bars, have 57"
    assert report.values["rsi_14"] is not None  # what can be computed still is
    assert set(report.unavailable) == {k for k, v in report.values.items() if v is None}
    assert any("57 daily bars" in w for w in report.warnings)
    json.dumps(report.model_dump(mode="json"), allow_nan=False)


def test_a_single_bar_does_not_crash_and_says_what_is_missing() -> None:
    report = ENGINE.analyze(random_walk_bars(1), symbol="TEST-USD")
    assert report.bars_used == 1
    assert report.values["close"] is not None
    assert report.unavailable["macd"] == "needs 34 bars, have 1"
    assert report.levels.pivots == {}
    encoded = json.dumps(report.model_dump(mode="json"), allow_nan=False)
    assert "NaN" not in encoded and "Infinity" not in encoded


def test_flat_prices_never_leak_nan_into_the_output() -> None:
    report = ENGINE.analyze(bars_from_closes([100.0] * 80, wick=0.0), symbol="FLAT-USD")
    for key, value in report.values.items():
        assert value is None or math.isfinite(value), key
    assert report.unavailable["bb_percent_b"] == "Bollinger bands have zero width on the latest bar"
    json.dumps(report.model_dump(mode="json"), allow_nan=False)


def test_unknown_indicator_name_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownIndicatorError) as caught:
        ENGINE.analyze(random_walk_bars(100), symbol="TEST-USD", indicators=["rsi", "ichimoku"])
    assert caught.value.unknown == ["ichimoku"]
    assert caught.value.valid == INDICATOR_NAMES
    for name in ("rsi", "macd", "bbands", "patterns"):
        assert name in str(caught.value)


def test_selected_groups_limit_values_and_signals() -> None:
    report = ENGINE.analyze(
        random_walk_bars(300), symbol="TEST-USD", indicators=["RSI", "bollinger"]
    )
    assert set(report.values) == {
        "close", "rsi_14", "bb_upper", "bb_middle", "bb_lower", "bb_percent_b", "bb_bandwidth",
    }  # fmt: skip
    assert {s.name for s in report.signals} <= {"rsi", "bollinger", "rsi_divergence"}
    assert report.patterns == []


def test_candlestick_patterns_report_latest_and_last_seen_dates() -> None:
    closes = [100.0 * (0.99**i) for i in range(40)]
    bars = bars_from_closes(closes)
    # Latest bar: a white candle whose body engulfs the previous black one.
    last, prev = bars.index[-1], bars.index[-2]
    bars.loc[last, ["open", "close"]] = [
        bars.loc[prev, "close"] * 0.99,
        bars.loc[prev, "open"] * 1.01,
    ]
    bars.loc[last, "high"] = bars.loc[last, "close"] * 1.002
    bars.loc[last, "low"] = bars.loc[last, "open"] * 0.998
    report = ENGINE.analyze(bars, symbol="TEST-USD", indicators=["patterns"])
    engulfing = next(p for p in report.patterns if p.name == "engulfing")
    assert engulfing.fired_latest and engulfing.direction == "bullish"
    assert engulfing.last_seen == f"{last:%Y-%m-%d}" and engulfing.bars_ago == 0
    o, h, lo, c, _ = _arrays(bars)
    assert talib.CDLENGULFING(o, h, lo, c)[-1] > 0
    names = {p.name for p in report.patterns}
    assert {"hammer", "shooting_star", "doji", "morning_star", "evening_star"} <= names
    candle = next(s for s in report.signals if s.name == "candlestick")
    assert candle.action == "buy" and "engulfing" in candle.reason


def test_hourly_interval_labels_events_with_hours() -> None:
    bars = random_walk_bars(400, freq="1h", volatility=0.006)
    report = ENGINE.analyze(bars, symbol="TEST-USD", interval="1h")
    macd = next(s for s in report.signals if s.name == "macd")
    assert macd.date is not None and macd.date.endswith("UTC") and ":" in macd.date
    assert report.warnings == []
    mislabelled = ENGINE.analyze(bars, symbol="TEST-USD", interval="1d")
    assert any("does not match interval '1d'" in w for w in mislabelled.warnings)


def test_indicator_frame_holds_the_series_behind_the_report() -> None:
    bars = random_walk_bars(300)
    as_of = bars.index[250]
    frame = indicator_frame(bars, as_of=as_of.date())
    report = ENGINE.analyze(bars, symbol="TEST-USD", as_of=as_of.date())
    assert frame.index[-1] == as_of and len(frame) == 251
    for key, value in report.values.items():
        assert frame[key].iloc[-1] == value


def test_required_history_tells_callers_how_many_bars_to_load() -> None:
    assert TechnicalEngine.required_history() == 200
    assert TechnicalEngine.required_history(["rsi"]) == 15


def test_bad_bars_are_rejected_with_a_clear_error() -> None:
    bars = random_walk_bars(50)
    with pytest.raises(InvalidBarsError, match="volume"):
        ENGINE.analyze(bars.drop(columns="volume"), symbol="TEST-USD")
    broken = bars.copy()
    broken.iloc[10, 3] = np.nan
    with pytest.raises(InvalidBarsError, match="close"):
        ENGINE.analyze(broken, symbol="TEST-USD")
    with pytest.raises(InvalidBarsError, match="ascending"):
        ENGINE.analyze(bars.iloc[::-1], symbol="TEST-USD")
    with pytest.raises(InsufficientDataError, match="no 1d bar closed by"):
        ENGINE.analyze(bars, symbol="TEST-USD", as_of="2000-01-01")


def test_importing_the_engine_and_charts_loads_no_heavy_library() -> None:
    """The API imports these at start-up; TA-Lib, Plotly and kaleido load on first use only."""
    code = (
        "import sys, tools.indicators, tools.charts; "
        "print(sorted(m for m in ('talib', 'plotly', 'kaleido') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
