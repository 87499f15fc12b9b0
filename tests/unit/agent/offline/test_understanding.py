"""Questions as people phrase them that the keyword planner answered with the wrong tool:
several engines at once, concept questions that name a coin, coins outside the catalogue,
parameters out of range, and passages that do not answer the question."""

from __future__ import annotations

from datetime import date

import pytest

from agent.offline.compose import compose_offline
from agent.offline.planner import ConversationContext, plan_turn
from agent.offline.writers import relevant_hits
from agent.toolkit import (
    BACKTEST,
    FORECAST_PRICE,
    GET_PRICE,
    NEWS_SENTIMENT,
    SEARCH_KNOWLEDGE,
    TECHNICAL_ANALYSIS,
)

TODAY = date(2025, 3, 15)


def tools(question: str, context: ConversationContext | None = None) -> list[str]:
    plan = plan_turn(question, context or ConversationContext(), today=TODAY)
    return [call.name for call in plan.tool_calls]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What is the RSI of ETH and is the news mood bullish?", {TECHNICAL_ANALYSIS, NEWS_SENTIMENT}),
        ("price and news for SOL", {GET_PRICE, NEWS_SENTIMENT}),
        ("forecast BTC and show me the chart", {FORECAST_PRICE, TECHNICAL_ANALYSIS}),
        ("full analysis of BTC", {GET_PRICE, TECHNICAL_ANALYSIS, FORECAST_PRICE, NEWS_SENTIMENT}),
        ("give me an overview of solana", {GET_PRICE, TECHNICAL_ANALYSIS, FORECAST_PRICE, NEWS_SENTIMENT}),
    ],
)  # fmt: skip
def test_several_engines_asked_at_once_all_run(question: str, expected: set[str]) -> None:
    assert set(tools(question)) == expected


def test_one_engine_asked_runs_one() -> None:
    assert tools("is the news bullish on BTC") == [NEWS_SENTIMENT]
    assert tools("BTC price target") == [FORECAST_PRICE]
    assert tools("how accurate were your BTC forecasts?") == ["forecast_accuracy"]


@pytest.mark.parametrize(
    "question",
    ["how do bitcoin halvings affect the price?", "what happens to ETH at the merge?",
     "how does ethereum's proof of stake work?"],
)  # fmt: skip
def test_concept_questions_naming_a_coin_search_the_knowledge_base(question: str) -> None:
    assert tools(question)[0] == SEARCH_KNOWLEDGE


def test_a_coin_outside_the_catalogue_is_said_with_the_ones_covered() -> None:
    context = ConversationContext(last_symbols=["BTC-USD"], last_intent="forecast")
    plan = plan_turn("forecast PEPE", context, today=TODAY)
    assert plan.tool_calls == [] and plan.unknown_symbols == ["PEPE"]  # not BTC from the thread
    answer = compose_offline(plan, [], plan.notes)
    assert "I don't cover PEPE" in answer and "BTC, ETH, SOL" in answer
    mixed = plan_turn("price of BTC and $WIF", ConversationContext(), today=TODAY)
    assert [c.name for c in mixed.tool_calls] == [GET_PRICE]
    assert any("WIF" in note for note in mixed.notes)


def test_a_negative_horizon_is_said_not_silently_made_positive() -> None:
    plan = plan_turn("forecast BTC for -5 days", ConversationContext(), today=TODAY)
    assert plan.horizon_days == 1
    assert plan.notes == [
        "forecast horizon of -5 days is outside the supported 1 to 30 days; using 1"
    ]


def test_a_passage_that_does_not_answer_the_question_is_not_quoted() -> None:
    doge = {"title": "Dogecoin (DOGE)", "section": "History", "source": "corpus/coins/doge.md",
            "text": "Dogecoin started in 2013 as a joke about a Shiba Inu meme.", "score": 0.4}  # fmt: skip
    stake = {"title": "Ethereum (ETH)", "section": "Consensus", "source": "corpus/coins/eth.md",
             "text": "The Merge switched Ethereum to proof of stake.", "score": 0.4}  # fmt: skip
    assert relevant_hits("weather in paris", [doge]) == []
    assert relevant_hits("ethereum proof of stake", [doge, stake]) == [stake]


def thread(*questions: str) -> list[list[tuple[str, dict[str, object]]]]:
    """The calls of each turn of a conversation, the context carried between them."""
    context, turns = ConversationContext(), []
    for question in questions:
        plan = plan_turn(question, context, today=TODAY)
        context = plan.updated_context(context)
        turns.append([(call.name, call.args) for call in plan.tool_calls])
    return turns


def test_after_a_forecast_the_model_against_no_change_is_its_track_record() -> None:
    turns = thread("forecast ETH for next week", "how does that compare to no change?")
    assert turns[1] == [("forecast_accuracy", {"symbol": "ETH-USD", "period_days": 30})]
    turns = thread("forecast BTC", "is the model any good?")
    assert turns[1][0][0] == "forecast_accuracy"


def test_the_day_before_moves_the_last_window_and_a_new_coin_keeps_it() -> None:
    turns = thread("What was the price of ETH on 2024-03-01?", "and the day before?", "and BTC?")
    windows = [(args["symbol"], args["start"], args["end"]) for [(_, args)] in turns]
    assert windows == [
        ("ETH-USD", "2024-03-01", "2024-03-01"),
        ("ETH-USD", "2024-02-29", "2024-02-29"),
        ("BTC-USD", "2024-02-29", "2024-02-29"),
    ]


@pytest.mark.parametrize(
    ("question", "says"),
    [
        ("when were the models last trained?", "models list"),
        ("how far could BTC move this week?", "volatility"),
    ],
)
def test_a_question_with_no_tool_yet_is_said_plainly(question: str, says: str) -> None:
    """Before, these were answered with a price quote or an indicator reading."""
    plan = plan_turn(question, ConversationContext(), today=TODAY)
    assert plan.intent == "not_yet" and plan.tool_calls == []
    answer = compose_offline(plan, [], plan.notes)
    assert answer.startswith("I can't answer that yet") and says in answer


@pytest.mark.parametrize(
    ("question", "call"),
    [
        ("has the RSI signal worked in the past for ETH?", {"symbol": "ETH-USD", "rule": "rsi"}),
        ("does the MACD crossover work for SOL?", {"symbol": "SOL-USD", "rule": "macd"}),
        ("how would buying BTC on every death cross have done?",
         {"symbol": "BTC-USD", "rule": "death_cross"}),
        ("did the golden cross ever pay off on ethereum", {"symbol": "ETH-USD",
                                                           "rule": "golden_cross"}),
        ("backtest RSI oversold on BNB since 2020",
         {"symbol": "BNB-USD", "rule": "rsi_oversold", "start": "2020-01-01"}),
        ("is the bollinger bounce any good on XRP", {"symbol": "XRP-USD", "rule": "bollinger"}),
        ("what's the track record of your stance on BTC", {"symbol": "BTC-USD", "rule": "stance"}),
        ("would shorting doge after every overbought reading have made money since march 2021",
         {"symbol": "DOGE-USD", "rule": "rsi_overbought", "start": "2021-03-01"}),
    ],
)  # fmt: skip
def test_a_question_about_a_signal_s_past_runs_the_backtest(question: str, call: dict) -> None:
    [calls] = thread(question)
    assert calls == [(BACKTEST, call)]


@pytest.mark.parametrize(
    "question",
    ["how accurate were your BTC forecasts?", "how good were your buy and sell calls on ETH?",
     "is ETH oversold?", "what does the MACD say for SOL?"],
)  # fmt: skip
def test_questions_about_now_or_the_forecasts_do_not_backtest(question: str) -> None:
    [calls] = thread(question)
    assert BACKTEST not in [name for name, _ in calls]


def test_a_comparison_of_the_news_mood_compares_the_news_mood() -> None:
    [calls] = thread("compare the news mood of BTC and ETH")
    assert calls == [
        (NEWS_SENTIMENT, {"symbol": "BTC-USD"}),
        (NEWS_SENTIMENT, {"symbol": "ETH-USD"}),
    ]
