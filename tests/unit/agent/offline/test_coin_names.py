"""Coin names as people type them: misspelt (through rapidfuzz), ambiguous words that are
coins only where a question needs one, and English words that merely look like a coin."""

from __future__ import annotations

import pytest

from agent.offline.entities import extract_symbols
from agent.offline.planner import ConversationContext, plan_turn


@pytest.mark.parametrize(
    ("text", "symbol"),
    [("is solona up or down this week", "SOL-USD"), ("Cardona price on 5 March 2021?", "ADA-USD"),
     ("etherium forecast", "ETH-USD"), ("bitcoim price", "BTC-USD"), ("litcoin news", "LTC-USD"),
     ("polkadott chart", "DOT-USD"), ("dogecon sentiment", "DOGE-USD")],
)  # fmt: skip
def test_a_misspelt_name_is_the_coin_meant(text: str, symbol: str) -> None:
    assert extract_symbols(text) == [symbol]


@pytest.mark.parametrize(
    "text",
    ["the web chat runs on chainlit", "an ethereal glow", "solar panels", "a cardinal rule",
     "the other one", "my dog bitten"],
)  # fmt: skip
def test_words_close_to_a_name_are_not_coins(text: str) -> None:
    assert extract_symbols(text) == []


@pytest.mark.parametrize(
    ("text", "symbol"),
    [("Give me technical view for ripple, I am new trader", "XRP-USD"),
     ("etc price", "ETC-USD"), ("track record of your sol predictions?", "SOL-USD"),
     ("how often were your LINK predictions right", "LINK-USD")],
)  # fmt: skip
def test_an_ambiguous_word_is_the_coin_when_the_question_needs_one(text: str, symbol: str) -> None:
    plan = plan_turn(text, ConversationContext())
    assert plan.symbols == [symbol] and plan.tool_calls
