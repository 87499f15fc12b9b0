"""The writer of the assistant's buy/sell calls: figures from the result only, plain when empty."""

from __future__ import annotations

from typing import Any

import pytest

from agent.guards.grounding import check_grounding
from agent.offline.calls_writer import NOTHING_SCORED, calls_lines
from agent.offline.context import ConversationContext
from agent.offline.planner import plan_turn
from agent.offline.writers import accuracy_block


def horizon(n: int, hit: float | None, mean: float | None) -> dict[str, Any]:
    return {"n": n, "hit_rate": hit, "mean_return": mean}


CALLS: dict[str, Any] = {
    "interval": "1d",
    "since": "2024-02-01",
    "horizons_days": [1, 7, 30],
    "served": 14,
    "scored": 12,
    "pending": 2,
    "sides": {
        "bullish": {
            "calls": 9,
            "horizons": {
                "1": horizon(8, 0.625, 0.012345),
                "7": horizon(3, 0.666667, 0.0321),
                "30": horizon(0, None, None),
            },
        },
        "bearish": {
            "calls": 4,
            "horizons": {
                "1": horizon(3, 0.333333, 0.004),
                "7": horizon(1, 1.0, -0.05),
                "30": horizon(0, None, None),
            },
        },
        "neutral": {
            "calls": 1,
            "horizons": {
                "1": horizon(1, None, -0.0021),
                "7": horizon(0, None, None),
                "30": horizon(0, None, None),
            },
        },
    },
    "base": {
        "1": {"n": 28, "up_share": 0.535714, "down_share": 0.464286, "mean_return": 0.0011},
        "7": {"n": 22, "up_share": 0.590909, "down_share": 0.409091, "mean_return": 0.0099},
        "30": {"n": 0, "up_share": None, "down_share": None, "mean_return": None},
    },
    "latest": [
        {
            "as_of": "2024-02-28T00:00:00+00:00",
            "stance": "strong_bullish",
            "score": 0.71,
            "close": 3412.25,
            "served_count": 17,
            "return_1d": 0.0123,
            "return_7d": None,
            "return_30d": None,
        }
    ],
}


def test_every_figure_is_grounded_in_the_result() -> None:
    text = "\n".join(calls_lines(CALLS))
    verdict = check_grounding(text, [CALLS])
    assert verdict.grounded, verdict.unsupported
    assert "right 62.5%" in text and "+1.23%" in text and "53.6%" in text
    assert "2024-02-28 strong bullish (score +0.71) at 3,412.25: +1.23% after 1 day" in text


def test_nothing_scored_is_said_plainly() -> None:
    empty = CALLS | {"scored": 0, "served": 2}
    (line,) = calls_lines(empty)
    assert NOTHING_SCORED in line and "(2 served in that period)" in line


def test_accuracy_block_carries_the_calls_paragraph() -> None:
    result = {
        "symbol": "ETH-USD",
        "period_days": 30,
        "realized": {"1": {"n": 0}},
        "realized_all_time": {"n": 0, "pending": 0},
        "backtest": None,
        "calls": CALLS,
    }
    text = accuracy_block(result)
    assert "**Buy and sell calls**" in text
    assert check_grounding(text, [result]).grounded
    assert "Buy and sell" not in accuracy_block(result | {"calls": None})


@pytest.mark.parametrize(
    "text",
    [
        "how good were your buy and sell calls on ETH?",
        "how did your buy and sell calls on BTC do?",
        "were your bullish calls on ETH right?",
    ],
)
def test_questions_about_the_calls_reach_the_accuracy_tool(text: str) -> None:
    plan = plan_turn(text, ConversationContext())
    assert plan.intent == "accuracy"
    assert [c.name for c in plan.tool_calls] == ["forecast_accuracy"]
