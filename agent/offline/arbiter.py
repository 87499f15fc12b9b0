"""Rules and the intent classifier, reconciled: which intent a turn gets and how sure it is.

The rules (`agent.offline.intents`, `cues`) are precise where their words occur; the classifier
(`agent.offline.classifier`) generalises to phrasings the rules never saw. So a rule's decision
stands and the classifier only vouches for it; where no rule spoke (the planner's default
reading), a confident classifier decides; below its threshold the turn is marked unsure, which
asks a configured model, or else gets the list of what the assistant can do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, cast

from agent.offline.classifier import IntentScores
from agent.offline.intents import Intent

#: what decided the rules' intent: a rule's words, the thread, or nothing (a default reading)
Source = Literal["rule", "context", "default"]
#: the classifier decides a turn no rule decided at this probability of its top label
DECIDE_AT = 0.6
#: where the classifier decides, the other engines it finds at this probability run too
#: (multi-engine questions); where a rule decided, its own cues (`agent.offline.cues`) say which
ALSO_AT = 0.5
#: a turn the thread would carry on is off topic at this probability ("btw, weather tomorrow?")
OFF_TOPIC_AT = 0.9
#: a rule's intent is vouched for when the classifier gives it this much
VOUCH_AT = 0.2

_LABEL_OF: dict[str, str] = {
    "help": "none",
    "smalltalk": "none",
    "unknown": "none",
    "off_topic": "none",
    # the shipped head learnt backtest questions as "not_yet" (before the backtest tool)
    "backtest": "not_yet",
}
_INTENT_OF: dict[str, Intent] = {"none": "off_topic"}
ENGINE_LABELS: tuple[Intent, ...] = ("price", "technical", "forecast", "sentiment")


class Scorer(Protocol):
    """What the planner needs of a classifier (`IntentClassifier`, or a test's own)."""

    def score(self, text: str) -> IntentScores | None: ...


@dataclass(frozen=True)
class Decision:
    """The turn's intent, engines the classifier adds, and whether the reading is sure."""

    intent: Intent
    confident: bool = True
    also: list[Intent] = field(default_factory=list)
    decided_by: Literal["rules", "classifier"] = "rules"


def label_of(intent: Intent) -> str:
    """The classifier's label for a planner intent."""
    return _LABEL_OF.get(intent, intent)


def arbitrate(
    intent: Intent,
    source: Source,
    score: Callable[[], IntentScores | None],
    *,
    has_symbols: bool,
    lead: bool,
    vouch: bool = True,
) -> Decision:
    """The rules' intent when a rule or the thread decided it (sure when the classifier agrees),
    the classifier's when only a default did and it is confident; unsure otherwise (`lead`:
    the message opens like a follow-up, "and ...", "what about ..."). `score` embeds the
    message, only where its answer matters: with `vouch` False (no model to ask when unsure) a
    rule's decision is taken without it."""
    if (source == "rule" and not vouch) or (source == "context" and (lead or has_symbols)):
        return Decision(intent)
    scores = score()
    if scores is None:
        return Decision(intent)
    top, p_top = scores.top
    if source == "context":  # a follow-up's meaning lies in its thread, not its words ...
        others = [p for label, p in scores.probabilities.items() if label != top]
        off_topic = top == "none" and p_top >= OFF_TOPIC_AT and max(others) < 0.5
        if off_topic:  # ... unless it is plainly about something else
            return Decision("off_topic", decided_by="classifier")
        return Decision(intent)
    if source == "rule":
        agrees = top == label_of(intent) or scores.probabilities[label_of(intent)] >= VOUCH_AT
        return Decision(intent, confident=agrees)
    if p_top < DECIDE_AT:
        return Decision(intent, confident=False)
    chosen = _INTENT_OF.get(top) or cast(Intent, top)
    return Decision(
        chosen, also=_extra_engines(chosen, scores) if has_symbols else [], decided_by="classifier"
    )


def _extra_engines(intent: Intent, scores: IntentScores) -> list[Intent]:
    """Engines besides `intent` that the message asks for with high probability."""
    if intent not in ENGINE_LABELS:
        return []
    return [
        label
        for label in ENGINE_LABELS
        if label != intent and scores.probabilities.get(label, 0.0) >= ALSO_AT
    ]
