"""Fold the signals into one stance with a score in [-1, 1] and a sentence that explains it.

Each family (trend, oscillator, price action) scores the mean of its votes (buy +1, hold 0,
sell -1); the score is the weighted mean of the family scores, so several correlated
oscillators cannot outvote the trend rules on their own.
"""

from __future__ import annotations

from tools.indicators.models import Signal, Stance, Summary

_STANCE_TEXT: dict[str, str] = {
    "strong_bullish": "Strongly bullish",
    "bullish": "Bullish",
    "neutral": "Neutral",
    "bearish": "Bearish",
    "strong_bearish": "Strongly bearish",
}
_FAMILY_TEXT: dict[str, str] = {
    "trend": "Trend",
    "oscillator": "Oscillators",
    "price_action": "Price action",
}
_VOTE: dict[str, int] = {"buy": 1, "hold": 0, "sell": -1}

#: Price action (a divergence, a candle) is rarer and noisier: half the weight of the others.
FAMILY_WEIGHTS: dict[str, float] = {"trend": 1.0, "oscillator": 1.0, "price_action": 0.5}


def stance_for(score: float) -> Stance:
    """Stance bands: |score| >= 0.6 is strong, >= 0.2 is a lean, otherwise neutral."""
    if score >= 0.6:
        return "strong_bullish"
    if score >= 0.2:
        return "bullish"
    if score <= -0.6:
        return "strong_bearish"
    if score <= -0.2:
        return "bearish"
    return "neutral"


def summarize(signals: list[Signal]) -> Summary:
    """The stance, its score, per-family scores and the rules that agree with the stance."""
    if not signals:
        return Summary(
            stance="neutral", score=0.0, rules=[], text="Neutral: no rule could be evaluated."
        )
    families: dict[str, list[Signal]] = {}
    for signal in signals:
        families.setdefault(signal.family, []).append(signal)
    family_scores = {
        family: round(sum(_VOTE[s.action] for s in members) / len(members), 4)
        for family, members in families.items()
    }
    total_weight = sum(FAMILY_WEIGHTS[f] for f in family_scores)
    score = round(sum(FAMILY_WEIGHTS[f] * v for f, v in family_scores.items()) / total_weight, 4)
    stance = stance_for(score)
    wanted = "buy" if "bullish" in stance else "sell" if "bearish" in stance else "hold"

    parts = []
    for family, members in families.items():
        votes = "; ".join(
            f"{action} {', '.join(s.name for s in members if s.action == action)}"
            for action in ("buy", "sell", "hold")
            if any(s.action == action for s in members)
        )
        parts.append(f"{_FAMILY_TEXT[family]} {family_scores[family]:+.2f} ({votes})")
    text = f"{_STANCE_TEXT[stance]} (score {score:+.2f}). " + ". ".join(parts) + "."
    return Summary(
        stance=stance,
        score=score,
        families=family_scores,
        rules=[s.name for s in signals if s.action == wanted],
        text=text,
        buy=sum(s.action == "buy" for s in signals),
        sell=sum(s.action == "sell" for s in signals),
        hold=sum(s.action == "hold" for s in signals),
    )
