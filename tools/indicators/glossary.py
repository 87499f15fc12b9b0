"""Plain-English descriptions of each indicator group the engine computes.

Used to explain an indicator when someone asks ("what is RSI?"); the thresholds quoted are the
engine's own defaults, so the explanation matches the signals it gives.
"""

from __future__ import annotations

from pydantic import BaseModel

from tools.indicators.params import DEFAULT_PARAMS, resolve_groups

_P = DEFAULT_PARAMS


class IndicatorInfo(BaseModel):
    """What an indicator measures, how it is computed, how to read it, and its traps."""

    name: str
    title: str
    measures: str
    computed: str
    reading: str
    traps: str


_ENTRIES: dict[str, tuple[str, str, str, str, str]] = {
    "rsi": (
        "Relative Strength Index (RSI)",
        "the speed and size of recent price changes, on a 0-100 scale",
        f"average gains over average losses across {_P.rsi_period} bars with Wilder smoothing, "
        "mapped to 100 - 100 / (1 + gain/loss)",
        f"below {_P.rsi_oversold:g} is called oversold, above {_P.rsi_overbought:g} overbought; "
        "a divergence between price and RSI can warn that a move is tiring",
        "in a strong trend RSI can stay overbought or oversold for weeks; it is not a timing signal",
    ),
    "macd": (
        "MACD (moving average convergence divergence)",
        "momentum: the gap between a fast and a slow exponential moving average",
        f"EMA {_P.macd_fast} minus EMA {_P.macd_slow} of the close; the signal line is its "
        f"EMA {_P.macd_signal}, the histogram the difference between the two",
        "the line crossing above its signal is read as bullish momentum, below as bearish; "
        "a histogram shrinking toward zero says momentum is fading",
        "crossovers lag the price and whipsaw in sideways markets",
    ),
    "bbands": (
        "Bollinger Bands",
        "where the price sits relative to its recent volatility",
        f"a {_P.bb_period}-bar simple moving average with bands {_P.bb_std:g} standard "
        "deviations above and below; %B places the close within the bands (0 = lower, "
        "1 = upper), bandwidth is the band width over the middle",
        "touches of the lower band are stretched-low readings and of the upper band "
        "stretched-high; narrow bandwidth (a squeeze) often comes before a large move",
        "in a trend, price can walk along a band; a touch alone is not a reversal",
    ),
    "sma": (
        "Simple moving averages (SMA)",
        "the trend, as the plain average close over a window",
        f"the mean of the last N closes, for N in {', '.join(map(str, _P.sma_periods))}",
        "price above a rising SMA 200 is a long-term uptrend; SMA 50 crossing above SMA 200 "
        "is a golden cross, below it a death cross",
        "averages lag: a cross confirms a trend that has already moved",
    ),
    "ema": (
        "Exponential moving averages (EMA)",
        "the trend, with more weight on recent closes than an SMA",
        f"a weighted average with factor 2/(N+1), for N in {', '.join(map(str, _P.ema_periods))}",
        "reacts faster than the SMA of the same length; price above its EMAs leans bullish",
        "faster reaction means more false signals in choppy markets",
    ),
    "stoch": (
        "Stochastic oscillator",
        "where the close sits within the recent high-low range",
        f"%K = position of the close in the {_P.stoch_k}-bar range, smoothed over "
        f"{_P.stoch_k_smooth} bars; %D is a {_P.stoch_d}-bar average of %K",
        f"below {_P.stoch_oversold:g} oversold, above {100 - _P.stoch_oversold:g} overbought; "
        "%K crossing %D gives turning points",
        "very sensitive; it flips often in trends",
    ),
    "willr": (
        "Williams %R",
        "the close relative to the highest high of the window, from -100 to 0",
        f"(highest high - close) / (highest high - lowest low) x -100 over {_P.willr_period} bars",
        "below -80 is oversold, above -20 overbought",
        "like the stochastic, it stays extreme during strong trends",
    ),
    "cci": (
        "Commodity Channel Index (CCI)",
        "how far the typical price is from its average, in units of mean deviation",
        f"(typical price - its {_P.cci_period}-bar SMA) / (0.015 x mean absolute deviation)",
        "above +100 is an unusually strong advance, below -100 an unusually strong decline",
        "unbounded; extreme readings can be the start of a trend rather than its end",
    ),
    "adx": (
        "Average Directional Index (ADX) with +DI and -DI",
        "how strong a trend is (ADX) and which side leads (+DI vs -DI)",
        f"Wilder's directional movement over {_P.adx_period} bars, smoothed",
        "ADX above 25 marks a trending market, below 20 a range; +DI above -DI favours the upside",
        "ADX says nothing about direction on its own and reacts slowly",
    ),
    "atr": (
        "Average True Range (ATR)",
        "volatility in price units",
        f"Wilder average of the true range (including gaps) over {_P.atr_period} bars",
        "used to size stops and positions: a stop a few ATRs away suits the coin's usual swings",
        "it measures range, not direction",
    ),
    "obv": (
        "On-Balance Volume (OBV)",
        "whether volume flows in on up days or out on down days",
        "a running total adding the volume of up closes and subtracting that of down closes",
        "OBV rising with price confirms the move; OBV falling while price rises warns",
        "the level is arbitrary, only its direction matters; exchange volume data is noisy",
    ),
    "mfi": (
        "Money Flow Index (MFI)",
        "a volume-weighted RSI",
        f"the ratio of positive to negative money flow (typical price x volume) over "
        f"{_P.mfi_period} bars, on 0-100",
        "below 20 oversold, above 80 overbought",
        "depends on volume data, which can be unreliable for crypto",
    ),
    "roc": (
        "Rate of Change (ROC)",
        "momentum as a percentage",
        f"(close / close {_P.roc_period} bars ago - 1) x 100",
        "positive means higher than N bars ago; a falling ROC while price rises shows slowing",
        "one number over one window; sensitive to the bar it starts from",
    ),
    "sar": (
        "Parabolic SAR",
        "a trailing stop that follows the trend",
        f"a point that accelerates toward price by {_P.sar_acceleration:g} per new extreme, "
        f"up to {_P.sar_maximum:g}, and flips side when price crosses it",
        "price above the SAR dots is an uptrend, below a downtrend; a flip marks a possible "
        "reversal",
        "flips constantly in sideways markets",
    ),
    "patterns": (
        "Candlestick patterns",
        "one- to three-bar shapes of open, high, low and close",
        "TA-Lib pattern recognition: engulfing, hammer, shooting star, doji, morning and "
        "evening star",
        "a hammer or morning star after a decline hints at a bullish turn; a shooting star or "
        "evening star after a rise at a bearish one; a doji marks indecision",
        "on their own, patterns have weak predictive power, especially on 24/7 crypto bars",
    ),
}


def describe(name: str) -> IndicatorInfo:
    """The description of one indicator group (aliases such as "bollinger" accepted)."""
    (group,) = resolve_groups([name])
    title, measures, computed, reading, traps = _ENTRIES[group]
    return IndicatorInfo(
        name=group, title=title, measures=measures, computed=computed, reading=reading, traps=traps
    )
