"""The offline backtest answer and the technical view's track-record note say what the tool
found, in plain words, and nothing it did not."""

from __future__ import annotations

from typing import Any

from agent.offline.backtest_writer import backtest_block, track_note
from tests.unit.tools.synthetic import random_walk_bars
from tools.backtest import RULE_LABELS, backtest


def _served(rule: str, side: str | None = None, n: int = 900) -> dict[str, Any]:
    report = backtest(random_walk_bars(n, seed=8, drift=0.0, volatility=0.04), symbol="SOL-USD",
                      rule=rule)  # fmt: skip
    buy, sell = RULE_LABELS[report.rule]
    body = report.model_dump(mode="json")
    return body | {"horizon_days": [1, 7, 30], "side": side, "labels": {"buy": buy, "sell": sell}}


def test_the_answer_quotes_both_sides_and_the_strategy_against_holding() -> None:
    served = _served("macd")
    text = backtest_block(served)
    week = served["events"]["buy"][1]
    assert f"it fired {week['n']} times since {served['start'][:10]}" in text
    assert "**Sell side**" in text and "buying and holding" in text
    flat = served["strategy"]["long_flat"]["total_return"]
    assert f"{flat * 100:+.2f}%" in text


def test_a_sell_side_question_leads_with_that_side_and_says_what_the_strategy_trades() -> None:
    text = backtest_block(_served("death_cross", side="sell"))
    assert "**Sell side** (death cross" in text and "**Buy side**" not in text
    assert "trades the rule's buy readings" in text


def test_too_few_occurrences_are_called_that_not_evidence_against() -> None:
    served = _served("death_cross", side="sell", n=420)
    assert not served["events"]["sell"][1]["enough"]
    text = backtest_block(served)
    assert "not enough history" in text and "too few occurrences to judge" in text
    assert "no evidence" not in text


def test_a_signal_s_track_record_note() -> None:
    record = {"side": "buy", "horizon": 7, "n": 23, "enough": True, "since": "2018-07-20",
              "hit_rate": 0.61, "base_hit_rate": 0.54, "significant": False, "favourable": True}  # fmt: skip
    note = track_note({"track_record": record})
    assert note == (" (history: fired 23 times since 2018-07-20; 7 bars later up 61% of the "
                    "time vs 54% on all bars, not significant)")  # fmt: skip
    assert track_note({"track_record": None}) == ""
    assert "not enough to judge" in track_note({"track_record": record | {"enough": False}})
