"""Every signal rule of the technical engine, evaluated at every bar at once.

`rule_actions` gives, for each rule and for the summary stance, the action the engine would
have emitted at each close from the bars up to that close: +1 buy, -1 sell, 0 hold, NaN when
the rule gives no signal there. TA-Lib's series are causal (the value at bar t reads bars up
to t only), so one pass over the whole history equals a report per bar; the rules below restate
`tools.indicators` rule by rule on whole arrays, and the tests check them against the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.indicators.bars import BarArrays
from tools.indicators.levels import swing_indices
from tools.indicators.panel import compute_panel
from tools.indicators.params import INDICATOR_NAMES, IndicatorParams
from tools.indicators.patterns import PATTERNS
from tools.indicators.summary import FAMILY_WEIGHTS, stance_for

STANCE = "stance"
#: Rule names in the engine's report order, with their family (as `Signal.name`/`family`).
RULE_FAMILIES: dict[str, str] = {
    "trend": "trend",
    "ma_cross": "trend",
    "adx": "trend",
    "macd": "trend",
    "sar": "trend",
    "rsi": "oscillator",
    "stochastic": "oscillator",
    "williams_r": "oscillator",
    "cci": "oscillator",
    "mfi": "oscillator",
    "bollinger": "oscillator",
    "rsi_divergence": "price_action",
    "candlestick": "price_action",
}
RULE_NAMES: tuple[str, ...] = (*RULE_FAMILIES, STANCE)
#: What an onset of each side of a rule is, in words (for answers and charts).
RULE_LABELS: dict[str, tuple[str, str]] = {
    "trend": ("close turns above both SMA50 and SMA200 (SMA50 above)", "close turns below both"),
    "ma_cross": ("golden cross (SMA50 crosses above SMA200)", "death cross (SMA50 below SMA200)"),
    "adx": ("ADX at or above 25 with +DI leading", "ADX at or above 25 with -DI leading"),
    "macd": ("MACD crosses above its signal line", "MACD crosses below its signal line"),
    "sar": ("close crosses above the Parabolic SAR", "close crosses below the Parabolic SAR"),
    "rsi": ("RSI falls below 30 (oversold)", "RSI rises above 70 (overbought)"),
    "stochastic": ("stochastic %K and %D both below 20", "stochastic %K and %D both above 80"),
    "williams_r": ("Williams %R below -80 (oversold)", "Williams %R above -20 (overbought)"),
    "cci": ("CCI below -100", "CCI above 100"),
    "mfi": ("MFI below 20 (oversold)", "MFI above 80 (overbought)"),
    "bollinger": ("a bar touches the lower Bollinger band", "a bar touches the upper band"),
    "rsi_divergence": ("bullish RSI divergence", "bearish RSI divergence"),
    "candlestick": ("bullish candlestick patterns on the bar", "bearish candlestick patterns"),
    STANCE: ("the summary stance turns bullish", "the summary stance turns bearish"),
}
_STANCE_LEVEL = {
    "strong_bearish": -2,
    "bearish": -1,
    "neutral": 0,
    "bullish": 1,
    "strong_bullish": 2,
}


@dataclass(frozen=True, slots=True)
class RuleActions:
    """Per-bar actions of every rule (+1/0/-1, NaN = no signal) and the stance's score."""

    bars: BarArrays
    actions: dict[str, np.ndarray]
    score: np.ndarray
    level: np.ndarray  # stance level per bar: -2 strong bearish .. +2 strong bullish


def _where(buy: np.ndarray, sell: np.ndarray, defined: np.ndarray) -> np.ndarray:
    """+1 where `buy`, -1 where `sell`, 0 elsewhere, NaN where not `defined`."""
    out = np.where(buy, 1.0, np.where(sell, -1.0, 0.0))
    out[~defined] = np.nan
    return out


def _finite(*arrays: np.ndarray) -> np.ndarray:
    defined = np.ones(len(arrays[0]), dtype=bool)
    for array in arrays:
        defined &= np.isfinite(array)
    return defined


def _zone(value: np.ndarray, low: float, high: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return _where(value < low, value > high, np.isfinite(value))


def _crossed_before(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether `a` has crossed `b` at or before each bar (both defined on both bars)."""
    valid = np.isfinite(a) & np.isfinite(b)
    with np.errstate(invalid="ignore"):
        above = a > b
    change = np.zeros(len(a), dtype=bool)
    change[1:] = (above[1:] != above[:-1]) & valid[1:] & valid[:-1]
    return np.cumsum(change) > 0


def _trend_rules(
    s: dict[str, np.ndarray], b: BarArrays, p: IndicatorParams
) -> dict[str, np.ndarray]:
    fast, slow = s[f"sma_{p.trend_fast}"], s[f"sma_{p.trend_slow}"]
    close = b.close
    both = _finite(fast, slow)
    with np.errstate(invalid="ignore"):
        trend = _where((close > fast) & (fast > slow), (close < fast) & (fast < slow), both)
        up = fast > slow
        cross = np.where(_crossed_before(fast, slow), np.where(up, 1.0, -1.0), 0.0)
        cross[~both] = np.nan

        adx, plus, minus = s[f"adx_{p.adx_period}"], s["plus_di"], s["minus_di"]
        strong = (adx >= p.adx_trending) & (plus != minus)
        adx_action = _where(
            strong & (plus > minus), strong & (plus < minus), _finite(adx, plus, minus)
        )

        line, signal, hist = s["macd"], s["macd_signal"], s["macd_hist"]
        macd = _where(line > signal, line < signal, _finite(line, signal, hist))
        sar = _where(close > s["sar"], close < s["sar"], np.isfinite(s["sar"]))
    return {"trend": trend, "ma_cross": cross, "adx": adx_action, "macd": macd, "sar": sar}


def _oscillator_rules(
    s: dict[str, np.ndarray], b: BarArrays, p: IndicatorParams
) -> dict[str, np.ndarray]:
    k, d = s["stoch_k"], s["stoch_d"]
    upper, lower = s["bb_upper"], s["bb_lower"]
    with np.errstate(invalid="ignore"):
        stoch = _where(
            (k < p.stoch_oversold) & (d < p.stoch_oversold),
            (k > p.stoch_overbought) & (d > p.stoch_overbought),
            _finite(k, d),
        )
        touch_low, touch_high = b.low <= lower, b.high >= upper
        bollinger = _where(touch_low & ~touch_high, touch_high & ~touch_low, _finite(upper, lower))
    return {
        "rsi": _zone(s[f"rsi_{p.rsi_period}"], p.rsi_oversold, p.rsi_overbought),
        "stochastic": stoch,
        "williams_r": _zone(s[f"willr_{p.willr_period}"], p.willr_oversold, p.willr_overbought),
        "cci": _zone(s[f"cci_{p.cci_period}"], -p.cci_extreme, p.cci_extreme),
        "mfi": _zone(s[f"mfi_{p.mfi_period}"], p.mfi_oversold, p.mfi_overbought),
        "bollinger": bollinger,
    }


def _divergence_side(
    close: np.ndarray, rsi: np.ndarray, p: IndicatorParams, *, highs: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Per bar: the index of the latest recent swing that makes a divergence (-1 if none).

    A swing inside the window ending at bar t is a global swing g with window start + width
    <= g <= t - width (its neighbours then all lie in the window), so the engine's per-window
    search reduces to a lookup of the last two global swings confirmed by t.
    """
    n, width = len(close), p.divergence_swing
    swings = swing_indices(close, width, highs=highs)
    swings = swings[np.isfinite(rsi[swings])]
    if swings.size < 2:  # a divergence needs two swings
        return np.full(n, -1), np.zeros(n, dtype=bool)
    t = np.arange(n)
    last = np.searchsorted(swings, t - width, side="right") - 1
    prev = last - 1
    ok = prev >= 0
    g2 = np.where(ok, swings[np.maximum(last, 0)], -1)
    g1 = np.where(ok, swings[np.maximum(prev, 0)], -1)
    start = np.maximum(0, t - p.divergence_lookback + 1)
    ok &= g1 >= start + width
    ok &= g2 >= t - (width + p.divergence_recent)
    c1, c2 = close[np.maximum(g1, 0)], close[np.maximum(g2, 0)]
    r1, r2 = rsi[np.maximum(g1, 0)], rsi[np.maximum(g2, 0)]
    gap = p.divergence_min_rsi_gap
    if highs:
        ok &= (c2 > c1) & (r2 < r1 - gap)
    else:
        ok &= (c2 < c1) & (r2 > r1 + gap)
    return np.where(ok, g2, -1), ok


def _divergence(s: dict[str, np.ndarray], b: BarArrays, p: IndicatorParams) -> np.ndarray:
    rsi = s[f"rsi_{p.rsi_period}"]
    low_at, bullish = _divergence_side(b.close, rsi, p, highs=False)
    high_at, bearish = _divergence_side(b.close, rsi, p, highs=True)
    # both found: the later second swing wins, the bullish one on a tie (the engine's order)
    out = np.full(b.n, np.nan)
    out[bullish] = 1.0
    out[bearish & (~bullish | (high_at > low_at))] = -1.0
    return out


def _candlestick(b: BarArrays) -> np.ndarray:
    import talib

    bullish = np.zeros(b.n, dtype=np.int32)
    bearish = np.zeros(b.n, dtype=np.int32)
    fired = np.zeros(b.n, dtype=bool)
    for _, function, _, neutral in PATTERNS:
        codes = getattr(talib, function)(b.open, b.high, b.low, b.close)
        fired |= codes != 0
        if not neutral:
            bullish += codes > 0
            bearish += codes < 0
    out = np.sign(bullish - bearish).astype(np.float64)
    out[~fired] = np.nan
    return out


def _python_round(values: np.ndarray) -> np.ndarray:
    """`round(x, 4)` as the summary does it (numpy's rounding can differ in the last place)."""
    unique, inverse = np.unique(values, return_inverse=True)
    rounded = np.array([round(float(v), 4) for v in unique])
    return rounded[inverse].reshape(values.shape)


def _stance(actions: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """The summary's score per bar: the weighted mean of the family means of the votes."""
    weighted = np.zeros(n)
    weights = np.zeros(n)
    for family, weight in FAMILY_WEIGHTS.items():
        members = [actions[name] for name, f in RULE_FAMILIES.items() if f == family]
        votes = np.vstack(members)
        count = np.isfinite(votes).sum(axis=0)
        total = np.nansum(votes, axis=0)
        has = count > 0
        mean = np.zeros(n)
        mean[has] = _python_round(total[has] / count[has])
        weighted += np.where(has, weight * mean, 0.0)
        weights += np.where(has, weight, 0.0)
    score = np.zeros(n)
    some = weights > 0
    score[some] = _python_round(weighted[some] / weights[some])
    levels = {value: _STANCE_LEVEL[stance_for(value)] for value in np.unique(score).tolist()}
    level = np.array([levels[value] for value in score.tolist()], dtype=np.float64)
    return score, level


def rule_actions(bars: BarArrays, params: IndicatorParams) -> RuleActions:
    """Every rule's action at every bar, and the stance (a buy when bullish or strongly so)."""
    panel = compute_panel(bars, INDICATOR_NAMES, params)
    series = panel.series
    actions = _trend_rules(series, bars, params)
    actions |= _oscillator_rules(series, bars, params)
    actions["rsi_divergence"] = _divergence(series, bars, params)
    actions["candlestick"] = _candlestick(bars)
    score, level = _stance(actions, bars.n)
    actions[STANCE] = np.sign(level)
    return RuleActions(bars=bars, actions=actions, score=score, level=level)
