"""The answer-fit check: what the question asked against what the turn's tools used."""

from __future__ import annotations

from datetime import date
from typing import Any

from agent.graph.state import ToolRun
from agent.guards.fit import check_fit
from agent.toolkit import FORECAST_PRICE, GET_PRICE, NEWS_SENTIMENT, SEARCH_KNOWLEDGE

TODAY = date(2025, 3, 15)


def run(name: str, **args: Any) -> ToolRun:
    return {"id": name, "name": name, "args": args, "ok": True, "result": {}, "error": None,
            "ms": 1.0}  # fmt: skip


def test_a_turn_that_used_what_was_asked_fits() -> None:
    verdict = check_fit(
        "price and news for SOL",
        [run(GET_PRICE, symbol="SOL-USD"), run(NEWS_SENTIMENT, symbol="SOL-USD")],
        "answer",
        today=TODAY,
    )
    assert verdict.fit and verdict.said == []
    assert verdict.asked["engines"] == ["price", "sentiment"]


def test_an_engine_asked_and_not_run_is_said() -> None:
    verdict = check_fit(
        "What is the RSI of ETH and is the news mood bullish?",
        [run(NEWS_SENTIMENT, symbol="ETH-USD")],
        "answer",
        today=TODAY,
    )
    assert not verdict.fit
    assert verdict.said == [
        "You also asked about the technical picture; this answer does not cover it."
    ]


def test_a_coin_left_out_is_said() -> None:
    verdict = check_fit(
        "compare BTC and ETH", [run(GET_PRICE, symbol="BTC-USD")], "answer", today=TODAY
    )
    assert verdict.said == ["This answer does not cover ETH-USD; ask again for it."]


def test_a_date_answered_with_the_latest_figures_is_said() -> None:
    verdict = check_fit(
        "compare btc and eth in 2023",
        [run(GET_PRICE, symbol="BTC-USD"), run(GET_PRICE, symbol="ETH-USD")],
        "answer",
        today=TODAY,
    )
    assert verdict.said == [
        "You asked about 2023-01-01 to 2023-12-31, but these figures are the latest ones, "
        "not those of that date."
    ]


def test_a_changed_horizon_is_said_once() -> None:
    calls = [run(FORECAST_PRICE, symbol="BTC-USD", horizon_days=30)]
    verdict = check_fit("forecast BTC for the next 60 days", calls, "answer", today=TODAY)
    assert verdict.said == [
        "You asked for 60 days ahead, but a forecast horizon must be 1 to 30 days: this one is "
        "for 30."
    ]
    planner_said = "Note: forecast horizon of 60 days is outside the supported 1 to 30 days."
    assert check_fit("forecast BTC for the next 60 days", calls, planner_said, today=TODAY).fit


def test_concept_questions_and_turns_without_tools_are_not_second_guessed() -> None:
    search = [run(SEARCH_KNOWLEDGE, query="proof of stake")]
    assert check_fit("how does ethereum's proof of stake work?", search, "a", today=TODAY).fit
    assert check_fit("what is RSI?", [], "I can help with...", today=TODAY).fit


def test_a_track_record_question_asks_no_new_forecast() -> None:
    calls = [run("forecast_accuracy", symbol="BTC-USD", period_days=30)]
    for question in (
        "how accurate are your BTC forecasts?",
        "Has your BTC model beaten a naive forecast?",
    ):
        assert check_fit(question, calls, "answer", today=TODAY).fit, question
