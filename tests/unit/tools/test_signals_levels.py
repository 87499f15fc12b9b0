"""Signals say what a trader would read off the chart, with the numbers and dates behind them;
levels are real swing prices and textbook pivots."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
import talib

from tests.unit.tools.synthetic import bars_from_closes, geometric_path
from tools.indicators import Signal, TechnicalEngine, TechnicalReport

ENGINE = TechnicalEngine()


def _signal(report: TechnicalReport, name: str) -> Signal:
    found = [s for s in report.signals if s.name == name]
    assert found, f"no {name!r} signal in {[s.name for s in report.signals]}"
    return found[0]


def _sma_cross_date(closes: list[float], fast: int, slow: int) -> tuple[str, bool]:
    """Latest fast/slow SMA cross found with pandas alone (independent of the engine)."""
    series = pd.Series(closes, index=pd.date_range("2023-01-01", periods=len(closes), tz="UTC"))
    a, b = series.rolling(fast).mean(), series.rolling(slow).mean()
    valid = a.notna() & b.notna()
    above = (a > b)[valid]
    changes = above.ne(above.shift()).iloc[1:]
    when = changes[changes].index[-1]
    return f"{when:%Y-%m-%d}", bool(above[when])


def test_falling_prices_give_rsi_oversold_with_the_value_in_the_reason() -> None:
    report = ENGINE.analyze(
        bars_from_closes(geometric_path(100.0, [(60, 0.002), (25, -0.02)])), symbol="TEST-USD"
    )
    rsi = report.values["rsi_14"]
    assert rsi is not None and rsi < 30
    signal = _signal(report, "rsi")
    assert signal.action == "buy"
    assert signal.reason == f"RSI {rsi:.1f} is below 30: oversold"
    assert _signal(report, "sar").action == "sell"
    assert "below the Parabolic SAR" in _signal(report, "sar").reason


def test_rising_prices_give_rsi_overbought() -> None:
    report = ENGINE.analyze(
        bars_from_closes(geometric_path(100.0, [(60, -0.002), (25, 0.02)])), symbol="TEST-USD"
    )
    signal = _signal(report, "rsi")
    assert signal.action == "sell"
    assert f"RSI {report.values['rsi_14']:.1f} is above 70: overbought" == signal.reason


def test_an_oversold_downtrend_is_not_called_bullish() -> None:
    report = ENGINE.analyze(
        bars_from_closes(geometric_path(100.0, [(60, 0.002), (25, -0.02)])), symbol="TEST-USD"
    )
    summary = report.summary
    oscillators_buying = [
        s.name for s in report.signals if s.family == "oscillator" and s.action == "buy"
    ]
    assert {"rsi", "stochastic", "williams_r", "cci"} <= set(oscillators_buying)
    assert summary.families["trend"] == -1.0  # every trend rule says sell
    assert summary.stance in {"neutral", "bearish"}
    assert -1.0 <= summary.score <= 1.0
    assert summary.buy + summary.sell + summary.hold == len(report.signals)
    assert f"{summary.score:+.2f}" in summary.text


def test_golden_cross_is_reported_with_its_date() -> None:
    closes = geometric_path(100.0, [(260, -0.003), (140, 0.006)])
    report = ENGINE.analyze(bars_from_closes(closes), symbol="TEST-USD")
    expected_date, upward = _sma_cross_date(closes, 50, 200)
    assert upward
    signal = _signal(report, "ma_cross")
    assert signal.action == "buy"
    assert signal.date == expected_date
    assert f"Golden cross: SMA50 crossed above SMA200 on {expected_date}" in signal.reason
    assert _signal(report, "trend").action == "buy"


def test_death_cross_is_reported_with_its_date() -> None:
    closes = geometric_path(100.0, [(260, 0.003), (140, -0.006)])
    report = ENGINE.analyze(bars_from_closes(closes), symbol="TEST-USD")
    expected_date, upward = _sma_cross_date(closes, 50, 200)
    assert not upward
    signal = _signal(report, "ma_cross")
    assert signal.action == "sell" and signal.date == expected_date
    assert f"Death cross: SMA50 crossed below SMA200 on {expected_date}" in signal.reason


def test_macd_reason_dates_the_latest_crossover() -> None:
    closes = geometric_path(100.0, [(80, 0.004), (20, -0.01), (6, 0.02)])
    bars = bars_from_closes(closes)
    report = ENGINE.analyze(bars, symbol="TEST-USD")
    hist = talib.MACD(np.asarray(closes), 12, 26, 9)[2]
    sign = np.sign(hist[np.isfinite(hist)])
    flip = len(hist) - len(sign) + int(np.flatnonzero(sign[1:] != sign[:-1])[-1]) + 1
    expected = f"{bars.index[flip]:%Y-%m-%d}"
    signal = _signal(report, "macd")
    assert signal.action == "buy"
    assert signal.date == expected and f"bullish crossover on {expected}" in signal.reason


def test_a_sharp_drop_through_the_lower_band_is_a_bollinger_touch() -> None:
    closes = [100.0 * (1.004 if i % 2 else 0.996) for i in range(40)] + [93.0]
    report = ENGINE.analyze(bars_from_closes(closes), symbol="TEST-USD")
    signal = _signal(report, "bollinger")
    assert signal.action == "buy"
    assert "lower Bollinger band" in signal.reason
    assert report.values["bb_percent_b"] is not None and report.values["bb_percent_b"] < 0


def test_bullish_rsi_divergence_on_a_lower_low_with_higher_rsi() -> None:
    path = geometric_path(80.0, [(60, 0.004), (10, -0.03), (8, 0.02), (16, -0.01), (4, 0.015)])
    bars = bars_from_closes(path)
    report = ENGINE.analyze(bars, symbol="TEST-USD")
    signal = _signal(report, "rsi_divergence")
    first_low, second_low = 70, 94  # ends of the sharp drop and of the slow grind
    rsi = talib.RSI(np.asarray(path), 14)
    assert path[second_low] < path[first_low] and rsi[second_low] > rsi[first_low]
    assert signal.action == "buy"
    assert signal.date == f"{bars.index[second_low]:%Y-%m-%d}"
    assert signal.reason.startswith("Bullish RSI divergence: price made a lower low")


def test_bearish_rsi_divergence_on_a_higher_high_with_lower_rsi() -> None:
    path = geometric_path(100.0, [(60, -0.004), (10, 0.03), (8, -0.02), (17, 0.01), (4, -0.015)])
    report = ENGINE.analyze(bars_from_closes(path), symbol="TEST-USD")
    signal = _signal(report, "rsi_divergence")
    assert signal.action == "sell"
    assert signal.reason.startswith("Bearish RSI divergence: price made a higher high")


def test_no_divergence_signal_on_a_steady_trend() -> None:
    report = ENGINE.analyze(
        bars_from_closes(geometric_path(100.0, [(120, 0.003)])), symbol="TEST-USD"
    )
    assert "rsi_divergence" not in {s.name for s in report.signals}


def test_classic_pivots_come_from_the_previous_completed_bar() -> None:
    index = pd.date_range("2024-05-01", periods=3, freq="1D", tz="UTC")
    bars = pd.DataFrame(
        {
            "open": [100.0, 104.0, 106.0],
            "high": [106.0, 110.0, 108.0],
            "low": [99.0, 100.0, 103.0],
            "close": [104.0, 105.0, 107.0],
            "volume": [1e6, 1e6, 1e6],
        },
        index=index,
    )
    levels = ENGINE.analyze(bars, symbol="TEST-USD").levels
    # previous bar: H 110, L 100, C 105 -> P 105
    assert levels.pivot_basis == "2024-05-02"
    expected = {"P": 105.0, "R1": 110.0, "S1": 100.0, "R2": 115.0, "S2": 95.0, "R3": 120.0}
    expected["S3"] = 90.0
    assert levels.pivots == pytest.approx(expected, abs=1e-12)


def _zigzag(points: list[float], leg: int = 5) -> list[float]:
    path = [points[0]]
    for a, b in pairwise(points):
        path.extend(a + (b - a) * k / leg for k in range(1, leg + 1))
    return path


def test_support_and_resistance_are_the_nearest_swing_lows_and_highs() -> None:
    closes = _zigzag([100, 120, 90, 115, 95, 110, 100, 105])
    report = ENGINE.analyze(bars_from_closes(closes, wick=0.0), symbol="TEST-USD")
    assert report.values["close"] == 105
    assert report.levels.resistance == pytest.approx([110.0, 115.0, 120.0])
    assert report.levels.support == pytest.approx([100.0, 95.0, 90.0])


def test_signals_are_json_friendly_and_carry_a_reason_each() -> None:
    closes = geometric_path(100.0, [(150, 0.002), (60, -0.004), (40, 0.005)])
    report = ENGINE.analyze(bars_from_closes(closes), symbol="TEST-USD")
    assert len(report.signals) >= 10
    for signal in report.signals:
        assert signal.action in {"buy", "sell", "hold"}
        assert signal.reason and signal.reason[0].isupper()
    assert set(report.summary.rules) <= {s.name for s in report.signals}
