"""The grounding check: figures in an answer must come from tool results (or the question)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from agent.guards.grounding import GroundingVerdict, check_grounding, strip_unsupported

TOOLS: list[Any] = [
    {
        "symbol": "BTC-USD",
        "as_of": "2025-12-31",
        "close": 87508.828125,
        "change_pct": -4.1,
        "volume": 2_512_345_678,
        "values": {"rsi_14": 41.23, "macd": -120.5, "sma_50": 90123.4},
        "signals": [{"name": "rsi", "action": "hold", "reason": "RSI 41.2 is between 30 and 70"}],
    },
    {"metrics": {"mape": 0.123, "skill_vs_naive": 0.0345}, "predictions": [{"price": 1.2345}]},
    "market cap 1.72T, headline: ETH jumps 12.34%",
]


@pytest.mark.parametrize(
    "answer",
    [
        "BTC closed at $87,508.83.",  # rounded to the cent
        "BTC closed at 87508.828125 USD.",  # as given
        "BTC is near 87.5k.",  # thousands suffix, one decimal shown
        "BTC is near $87,500.",  # round figure within 0.1%
        "BTC is at $87,508.",  # truncated
        "Volume was 2.5B, or 2,512.3 million.",  # billions, and a spelled-out scale
        "Market cap is about $1.72T.",  # number inside a tool string
        "BTC is down 4.1% today.",  # sign dropped in words
        "The change was -4.1%.",  # sign kept
        "MAPE is 12.3%.",  # fraction shown as percent
        "ETH jumped 12.3% on the news.",  # percent rounded from a string
        "Skill versus naive is +0.03.",  # explicit plus, truncated
        "The next price is 1.23.",
        "As of 2025-12-31 at 14:00 UTC the close was 87,508.83.",  # date matched, time ignored
        "On December 31, 2025 it closed lower.",  # written-out date
        "Data for 2025 looks thin.",  # a year from a tool date
        "1. RSI(14) is 41.2\n2. The 50-day SMA is 90,123.4",  # list markers, parameters
        "RSI is 41.2, below 70 and above 30.",  # oscillator thresholds
        "Stochastic is under 20.",  # textbook threshold in an oscillator sentence
        "3 of 5 signals say hold.",  # small counts
        "MACD is -120.5 on the 1d chart, 24h change -4.1%.",  # interval labels not figures
    ],
)
def test_grounded_answers(answer: str) -> None:
    verdict = check_grounding(answer, TOOLS)
    assert verdict.grounded, verdict.unsupported
    assert verdict.unsupported == []


@pytest.mark.parametrize(
    ("answer", "bad"),
    [
        ("BTC closed at $87,508.83 and may reach $91,200.", ["$91,200"]),
        ("BTC is near 88.5k.", ["88.5k"]),
        ("BTC is near $90,000.", ["$90,000"]),
        ("The change was +4.1%.", ["+4.1%"]),  # explicit wrong sign
        ("MAPE is 15%.", ["15%"]),
        ("Volume was 3.1B.", ["3.1B"]),
        ("It peaked on 2025-11-30.", ["2025-11-30"]),
        ("RSI is 48 and rising.", ["48"]),
        ("Fees are 0.25 per trade.", ["0.25"]),
        ("Price hit 95,000 while volume hit 4.2M.", ["95,000", "4.2M"]),
    ],
)
def test_unsupported_figures_are_named(answer: str, bad: list[str]) -> None:
    verdict = check_grounding(answer, TOOLS)
    assert not verdict.grounded
    assert verdict.unsupported == bad


def test_invented_price_is_caught() -> None:
    verdict = check_grounding("BTC trades at $91,200 right now.", [{"close": 87508.83}])
    assert verdict == GroundingVerdict(grounded=False, checked=1, unsupported=["$91,200"])


def test_numbers_from_the_question_are_grounded() -> None:
    answer = "Over the next 14 days the model sees 87,508.83 as the midpoint."
    assert not check_grounding(answer, [{"close": 87508.83}]).grounded
    assert check_grounding(answer, [{"close": 87508.83}], question="forecast BTC 14 days").grounded


def test_keys_dates_and_models_count_as_evidence() -> None:
    results = [{"sma_200": 1.0, "at": date(2024, 3, 1)}, ("tuple", 7.5), None, True]
    assert check_grounding("The SMA 200 line; 7.5 on 2024-03-01.", results).grounded
    assert check_grounding("SMA at 200 exactly.", results).grounded  # from the key sma_200
    assert check_grounding("Nothing to check here.", []).checked == 0


def test_precision_sets_the_tolerance() -> None:
    tools = [{"close": 87508.8}]
    assert check_grounding("87.5k", tools).grounded
    assert check_grounding("87.51k", tools).grounded  # shown to tens: 1.2 off is fine
    assert not check_grounding("87.53k", tools).grounded  # 21.2 off is not
    assert check_grounding("87.509k", tools).grounded
    assert not check_grounding("87,512.9", tools).grounded


def test_strip_removes_exactly_the_offending_sentence() -> None:
    answer = "BTC closed at $87,508.83. It will hit $91,200 by Friday. RSI(14) is 41.2."
    verdict = check_grounding(answer, TOOLS)
    assert verdict.unsupported == ["$91,200"]
    cleaned = strip_unsupported(answer, verdict)
    assert cleaned == "BTC closed at $87,508.83. RSI(14) is 41.2.\n\n(1 unsupported figure removed)"
    assert check_grounding(cleaned, TOOLS).grounded


def test_strip_keeps_layout_and_counts() -> None:
    answer = (
        "Summary for BTC:\n- Close $87,508.83. Target $99,999!\n- Volume 9.9B.\n\nRSI(14) is 41.2."
    )
    verdict = check_grounding(answer, TOOLS)
    assert verdict.unsupported == ["$99,999", "9.9B"]
    assert strip_unsupported(answer, verdict) == (
        "Summary for BTC:\n- Close $87,508.83.\n\nRSI(14) is 41.2.\n\n"
        "(2 unsupported figures removed)"
    )


def test_strip_leaves_grounded_answers_alone() -> None:
    answer = "BTC closed at $87,508.83."
    assert strip_unsupported(answer, check_grounding(answer, TOOLS)) == answer
