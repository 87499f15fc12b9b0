"""The rule registry: every signal rule in report order, and the function that runs them.

Each rule reads the latest panel values (and, for crossovers, the series history) and gives
buy, sell or hold with a sentence quoting the numbers it used. A rule whose indicator was not
requested or is not yet defined gives no signal rather than a guess.
"""

from __future__ import annotations

from collections.abc import Callable

from tools.indicators.context import SignalContext
from tools.indicators.models import Signal
from tools.indicators.oscillator_rules import (
    bollinger_rule,
    cci_rule,
    mfi_rule,
    rsi_rule,
    stochastic_rule,
    williams_rule,
)
from tools.indicators.price_action_rules import divergence_rule, pattern_rule
from tools.indicators.trend_rules import adx_rule, ma_cross_rule, macd_rule, sar_rule, trend_rule

Rule = Callable[[SignalContext], Signal | None]

RULES: tuple[Rule, ...] = (
    trend_rule,
    ma_cross_rule,
    adx_rule,
    macd_rule,
    sar_rule,
    rsi_rule,
    stochastic_rule,
    williams_rule,
    cci_rule,
    mfi_rule,
    bollinger_rule,
    divergence_rule,
    pattern_rule,
)


def build_signals(ctx: SignalContext) -> list[Signal]:
    """Evaluate every rule, keeping those that could be evaluated."""
    return [signal for rule in RULES if (signal := rule(ctx)) is not None]
