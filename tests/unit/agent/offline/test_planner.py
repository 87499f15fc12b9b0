"""The offline planner: utterances (alone and as threads) -> intent, coins, tool calls, args."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from agent.offline.entities import extract_durations, extract_interval, extract_symbols
from agent.offline.planner import ConversationContext, Plan, plan_turn

TODAY = date(2025, 3, 15)
# Tool shorthand in the tables below.
TOOLS = {
    "P": "get_price",
    "T": "technical_analysis",
    "F": "forecast_price",
    "A": "forecast_accuracy",
    "S": "news_sentiment",
    "K": "search_knowledge",
    "E": "explain_indicator",
}
# The agent's tool contract: each tool's argument names.
CONTRACT = {
    "get_price": {"symbol", "period_days", "interval"},
    "technical_analysis": {"symbol", "interval", "indicators", "as_of"},
    "forecast_price": {"symbol", "horizon_days"},
    "forecast_accuracy": {"symbol", "period_days"},
    "news_sentiment": {"symbol"},
    "search_knowledge": {"query"},
    "explain_indicator": {"name"},
}

Turn = tuple[str, str, str, str, dict[str, Any]]


def turn(text: str, intent: str, coins: str = "", tools: str = "", **fields: Any) -> Turn:
    """One row: message, intent, tickers ("BTC ETH"), tool shorthand ("P T"), Plan fields."""
    return (text, intent, coins, tools, fields)


SINGLE: list[Turn] = [
    # price
    turn("what's BTC at?", "price", "BTC", "P", period_days=1, interval="1d"),
    turn("How much did ETH move last week?", "price", "ETH", "P", period_days=7),
    turn("bitcoin price over the past 30 days", "price", "BTC", "P", period_days=30),
    turn("how did ethereum classic perform over the past 3 months?", "price", "ETC", "P",
         period_days=90),
    turn("ytd performance of BTC", "price", "BTC", "P", period_days=74),
    turn("BTC this month", "price", "BTC", "P", period_days=15),
    turn("xrp change in the last 24h", "price", "XRP", "P", period_days=1),
    turn("how much did ETH move in 24h", "price", "ETH", "P", period_days=1),
    turn("BTC last year", "price", "BTC", "P", period_days=365),
    turn("what's bitcoin's price", "price", "BTC", "P"),
    turn("bitcon price", "price", "BTC", "P"),
    turn("how is etherium doing", "price", "ETH", "P"),
    turn("price of BTC-USD", "price", "BTC", "P"),
    turn("$dot price", "price", "DOT", "P"),
    turn("the LINK price today", "price", "LINK", "P", period_days=1),
    turn("sol price", "price", "SOL", "P"),
    turn("BTC, ETH, etc.", "price", "BTC ETH", "P P"),
    turn("hello, what's ETH at?", "price", "ETH", "P"),
    # technical
    turn("Is ETH oversold?", "technical", "ETH", "T", interval="1d", indicators=[]),
    turn("technical view on SOL", "technical", "SOL", "T"),
    turn("RSI of BTC", "technical", "BTC", "T", indicators=["rsi"]),
    turn("show me the hourly chart for ADA", "technical", "ADA", "T", interval="1h"),
    turn("ETH 4h chart", "technical", "ETH", "T", interval="1h"),
    turn("daily MACD and bollinger for ltc", "technical", "LTC", "T", interval="1d",
         indicators=["macd", "bbands"]),
    turn("stochastic and williams %R on cardano", "technical", "ADA", "T",
         indicators=["stoch", "willr"]),
    turn("rate of change and parabolic sar for xrp", "technical", "XRP", "T",
         indicators=["roc", "sar"]),
    turn("any candlestick patterns on doge?", "technical", "DOGE", "T", indicators=["patterns"]),
    turn("moving averages for litecoin", "technical", "LTC", "T", indicators=["sma", "ema"]),
    turn("cci, adx, atr, obv and mfi for avax", "technical", "AVAX", "T",
         indicators=["cci", "adx", "atr", "obv", "mfi"]),
    turn("RSI of BTC as of March 1 2024", "technical", "BTC", "T", as_of=date(2024, 3, 1)),
    turn("technical analysis of ETH on 2024-03-01", "technical", "ETH", "T",
         as_of=date(2024, 3, 1)),
    # advice
    turn("should I buy BTC?", "advice", "BTC", "P T F S", horizon_days=7, period_days=30),
    turn("Is it a good time to sell XRP?", "advice", "XRP", "P T F S"),
    turn("sell or hold my shib?", "advice", "SHIB", "P T F S"),
    turn("what's your take on polkadot for the next month", "advice", "DOT", "P T F S",
         horizon_days=30),
    # compare
    turn("compare BTC and ETH", "compare", "BTC ETH", "P T P T", period_days=30),
    turn("which is stronger, SOL or ADA?", "compare", "SOL ADA", "P T P T"),
    turn("which is stronger, sol or ada?", "compare", "SOL ADA", "P T P T"),
    turn("link vs dot", "compare", "LINK DOT", "P T P T"),
    turn("bitcoin cash versus litecoin", "compare", "BCH LTC", "P T P T"),
    # forecast
    turn("forecast BTC for the next week", "forecast", "BTC", "F", horizon_days=7),
    turn("where will ETH be in 3 days", "forecast", "ETH", "F", horizon_days=3),
    turn("predict SOL", "forecast", "SOL", "F", horizon_days=7),
    turn("solona forecast for tomorrow", "forecast", "SOL", "F", horizon_days=1),
    turn("forecast ETH for a month", "forecast", "ETH", "F", horizon_days=30),
    turn("what will XRP be worth in two weeks?", "forecast", "XRP", "F", horizon_days=14),
    turn("forecast solanas", "forecast", "SOL", "F"),
    turn("forecast BTC for 90 days", "forecast", "BTC", "F", horizon_days=30),
    # accuracy
    turn("how accurate were your BTC forecasts last month?", "accuracy", "BTC", "A",
         period_days=30),
    turn("what's your track record on ETH predictions over the past 2 weeks", "accuracy", "ETH",
         "A", period_days=14),
    # sentiment
    turn("what is the news mood on Solana?", "sentiment", "SOL", "S"),
    turn("sentiment for doge", "sentiment", "DOGE", "S"),
    turn("any headlines about $LINK?", "sentiment", "LINK", "S"),
    # explain
    turn("what is RSI?", "explain", "", "K E", concept="RSI"),
    turn("explain bollinger bands", "explain", "", "K E", concept="Bollinger Bands"),
    turn("What does MACD mean", "explain", "", "K E", concept="MACD"),
    turn("what is a dot plot", "explain", "", "K", concept="dot plot"),
    turn("what is bitcoin?", "explain", "BTC", "K", concept="bitcoin"),
    turn("what is sentiment analysis?", "explain", "", "K", concept="sentiment analysis"),
    turn("explain the RSI reading for BTC", "explain", "BTC", "K E T", concept="RSI"),
    # help, smalltalk, unknown and things that are not coins
    turn("what can you do?", "help"),
    turn("help", "help"),
    turn("hi", "smalltalk"),
    turn("thanks!", "smalltalk"),
    turn("who are you", "smalltalk"),
    turn("asdf qwerty", "unknown"),
]  # fmt: skip

# ambiguous coin words used as plain words: whatever the reading, no coin and no tool runs
NOT_COINS = ("the ripple effect of rates", "Link me the docs", "I have a link for you")


@pytest.mark.parametrize("text", NOT_COINS)
def test_plain_words_are_not_coins(text: str) -> None:
    plan = plan_turn(text, ConversationContext(), today=TODAY)
    assert plan.symbols == [] and plan.tool_calls == []


THREADS: dict[str, list[Turn]] = {
    "technical then follow-ups": [
        turn("technical view on ETH with RSI and MACD", "technical", "ETH", "T",
             indicators=["rsi", "macd"], is_followup=False),
        turn("why?", "explain", "ETH", "K E E T", concept="RSI, MACD signals", is_followup=True),
        turn("and for $LINK?", "technical", "LINK", "T", indicators=["rsi", "macd"],
             is_followup=True),
        turn("what about the hourly chart?", "technical", "LINK", "T", interval="1h",
             indicators=["rsi", "macd"], is_followup=True),
        turn("and the forecast?", "forecast", "LINK", "F", horizon_days=7, is_followup=True),
        turn("make it 14 days", "forecast", "LINK", "F", horizon_days=14, is_followup=True),
        turn("and solana", "forecast", "SOL", "F", horizon_days=14, is_followup=True),
        turn("sentiment?", "sentiment", "SOL", "S", is_followup=True),
    ],
    "price then compare": [
        turn("what's BTC at?", "price", "BTC", "P"),
        turn("and ETH?", "price", "ETH", "P", is_followup=True),
        turn("over the last 30 days", "price", "ETH", "P", period_days=30, is_followup=True),
        turn("compare it with cardano", "compare", "ETH ADA", "P T P T", is_followup=True),
        turn("and sol?", "compare", "ETH ADA SOL", "P T P T P T", is_followup=True),
        turn("thanks", "smalltalk"),
        turn("what's the RSI?", "technical", "ETH ADA SOL", "T T T", indicators=["rsi"]),
    ],
    "coin asked for later": [
        turn("hi", "smalltalk"),
        turn("forecast", "forecast", "", "", missing=["symbol"]),
        turn("doge", "forecast", "DOGE", "F", horizon_days=7, is_followup=True),
        turn("how accurate are you?", "accuracy", "DOGE", "A", period_days=30),
        turn("why?", "explain", "", "K", concept="forecast accuracy metrics"),
    ],
}  # fmt: skip


def _yahoo(coins: str) -> list[str]:
    """Tickers as the planner reports them (Yahoo symbols)."""
    return [f"{coin}-USD" for coin in coins.split()]


def _check(plan: Plan, row: Turn) -> None:
    """Assert one plan matches its table row, and every call respects the tool contract."""
    text, intent, coins, tools, fields = row
    assert plan.intent == intent, text
    assert plan.symbols == _yahoo(coins), text
    assert [call.name for call in plan.tool_calls] == [TOOLS[t] for t in tools.split()], text
    for name, expected in fields.items():
        assert getattr(plan, name) == expected, (text, name)
    for call in plan.tool_calls:
        assert set(call.args) == CONTRACT[call.name], (text, call)
        if "symbol" in call.args:
            assert call.args["symbol"] in plan.symbols
        if call.name == "forecast_price":
            assert call.args["horizon_days"] == plan.horizon_days
        if call.name in ("get_price", "forecast_accuracy"):
            assert call.args["period_days"] == plan.period_days


def test_the_table_is_large_enough() -> None:
    assert len(SINGLE) + sum(len(rows) for rows in THREADS.values()) >= 60


@pytest.mark.parametrize("row", SINGLE, ids=[row[0] for row in SINGLE])
def test_single_utterance(row: Turn) -> None:
    _check(plan_turn(row[0], ConversationContext(), today=TODAY), row)


@pytest.mark.parametrize("name", list(THREADS))
def test_thread(name: str) -> None:
    context = ConversationContext()
    for row in THREADS[name]:
        plan = plan_turn(row[0], context, today=TODAY)
        _check(plan, row)
        context = plan.updated_context(context)
    assert context.turn == len(THREADS[name])


def test_technical_call_arguments() -> None:
    plan = plan_turn("hourly RSI of BTC as of 2024-03-01", ConversationContext(), today=TODAY)
    assert plan.tool_calls[0].args == {
        "symbol": "BTC-USD",
        "interval": "1h",
        "indicators": ["rsi"],
        "as_of": "2024-03-01",
    }
    plain = plan_turn("technical view on BTC", ConversationContext(), today=TODAY)
    assert plain.tool_calls[0].args["indicators"] is None  # None = every indicator group


def test_updated_context_and_checkpoint_round_trip() -> None:
    start = ConversationContext()
    plan = plan_turn("forecast ETH for 10 days", start, today=TODAY)
    context = plan.updated_context(start)
    assert context.last_symbols == ["ETH-USD"] and context.last_intent == "forecast"
    assert context.last_horizon_days == 10 and context.turn == 1
    assert ConversationContext.model_validate_json(context.model_dump_json()) == context
    chat = plan_turn("thanks", context, today=TODAY).updated_context(context)
    assert chat.last_intent == "forecast" and chat.last_horizon_days == 10 and chat.turn == 2


def test_missing_symbol_asks_instead_of_calling() -> None:
    plan = plan_turn("is it oversold?", ConversationContext(), today=TODAY)
    assert (plan.intent, plan.missing, plan.tool_calls) == ("technical", ["symbol"], [])
    compare = plan_turn("compare BTC", ConversationContext(), today=TODAY)
    assert compare.missing == ["symbol"] and compare.tool_calls == []


@pytest.mark.parametrize(
    ("text", "horizon"), [("forecast BTC for 90 days", 30), ("forecast BTC in 0 days", 1)]
)
def test_horizon_is_clamped_with_a_note(text: str, horizon: int) -> None:
    plan = plan_turn(text, ConversationContext(), today=TODAY)
    assert plan.horizon_days == horizon
    assert plan.tool_calls[0].args["horizon_days"] == horizon
    assert len(plan.notes) == 1 and str(horizon) in plan.notes[0]


def test_no_note_inside_bounds() -> None:
    assert plan_turn("forecast BTC for 30 days", ConversationContext()).notes == []


@pytest.mark.parametrize(
    ("text", "symbols"),
    [
        ("I have a link for you", []),
        ("what is a dot plot", []),
        ("click this link", []),
        ("an atom of truth", []),
        ("BTC, ETH, etc.", ["BTC-USD", "ETH-USD"]),
        ("LINK looks strong", ["LINK-USD"]),
        ("what about DOT?", ["DOT-USD"]),
        ("btc and link", ["BTC-USD", "LINK-USD"]),
        ("uni token price", ["UNI7083-USD"]),
        ("$atom", ["ATOM-USD"]),
        ("ETHEREUM AND BITCOIN", ["ETH-USD", "BTC-USD"]),
        ("either way the other coin", []),
        ("solar power and bitten apples", []),
        ("shiba inu or dogecoin", ["SHIB-USD", "DOGE-USD"]),
        ("polkadots and bitcoins", ["DOT-USD", "BTC-USD"]),
    ],
)
def test_symbol_ambiguity_rules(text: str, symbols: list[str]) -> None:
    assert extract_symbols(text) == symbols


def test_durations_and_intervals() -> None:
    assert extract_durations("over the past 2 weeks", TODAY) == (14, None, None)
    assert extract_durations("in the next 3 days", TODAY) == (None, 3, None)
    assert extract_durations("make it 14 days", TODAY) == (None, None, 14)
    assert extract_durations("price 5 days ago", TODAY) == (5, None, None)
    assert extract_durations("this month", TODAY) == (15, None, None)
    assert extract_interval("hourly candles") == "1h" and extract_interval("1d chart") == "1d"
    assert extract_interval("the 4-hour view") == "1h" and extract_interval("BTC") is None
