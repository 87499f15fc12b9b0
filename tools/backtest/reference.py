"""The slow reference: the technical engine run bar by bar, one report per close.

What `rules.rule_actions` must equal, and what the benchmark times it against.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from tools.backtest.rules import RULE_NAMES, STANCE
from tools.indicators.engine import TechnicalEngine
from tools.indicators.params import IndicatorParams

_VOTE = {"buy": 1.0, "sell": -1.0, "hold": 0.0}
_STANCE_SIGN = {"strong_bullish": 1.0, "bullish": 1.0, "neutral": 0.0, "bearish": -1.0,
                "strong_bearish": -1.0}  # fmt: skip


def actions_at(
    bars: pd.DataFrame, positions: Iterable[int], params: IndicatorParams | None = None
) -> dict[str, np.ndarray]:
    """Each rule's action (and the stance) from a full report on the bars up to each position."""
    engine = TechnicalEngine(params)
    wanted = list(positions)
    out = {name: np.full(len(wanted), np.nan) for name in RULE_NAMES}
    for row, position in enumerate(wanted):
        report = engine.analyze(bars.iloc[: position + 1], symbol="X")
        for signal in report.signals:
            out[signal.name][row] = _VOTE[signal.action]
        out[STANCE][row] = _STANCE_SIGN[report.summary.stance]
    return out
