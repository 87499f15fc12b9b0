"""The intent classifier: the shipped head is the one its tables train, it never saw a held-out
turn, it reads phrasings the rules do not know, and a broken embedder leaves the rules alone."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from agent.offline.arbiter import arbitrate
from agent.offline.classifier import (
    HEAD_PATH,
    LABELS,
    IntentClassifier,
    IntentScores,
    default_classifier,
    load_head,
)
from agent.offline.intent_training import EXTRA_PATH, fingerprint, training_examples
from agent.offline.planner import ConversationContext, plan_turn

ROOT = Path(__file__).resolve().parents[4]
TABLE = ROOT / "benchmarks" / "routing" / "utterances.jsonl"


def _rows() -> list[dict]:
    return [json.loads(line) for line in TABLE.read_text().splitlines() if line.strip()]


def test_the_shipped_head_was_trained_on_the_current_tables() -> None:
    head = load_head()
    assert head is not None and head.labels == LABELS
    examples = training_examples(_rows(), EXTRA_PATH)
    # a changed table needs `scripts/train_intents.py`, or the planner runs a stale head
    assert head.metadata["fingerprint"] == fingerprint(examples)
    assert head.metadata["examples"] == len(examples) >= 600


def test_no_held_out_turn_is_a_training_example() -> None:
    held_out = {" ".join(r["text"].lower().split()) for r in _rows() if r["split"] == "heldout"}
    trained = {" ".join(ex.text.lower().split()) for ex in training_examples(_rows(), EXTRA_PATH)}
    assert held_out and not held_out & trained


@pytest.mark.parametrize(
    ("text", "label"),
    [("whats the vibe in the headlines about cardano lately", "sentiment"),
     ("could you explain to me how staking rewards are paid", "explain"),
     ("recommend me a good pasta recipe", "none"),
     ("where do you reckon dogecoin ends up by next month", "forecast"),
     ("how wild are ETH's daily swings", "not_yet")],
)  # fmt: skip
def test_the_classifier_reads_phrasings_by_meaning(text: str, label: str) -> None:
    classifier = default_classifier()
    assert classifier is not None
    scores = classifier.score(text)
    assert scores is not None and scores.top[0] == label


class _Broken:
    model_name = "all-MiniLM-L6-v2"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        raise OSError("model files missing")


def test_a_broken_embedder_leaves_the_rules_to_plan() -> None:
    head = load_head(HEAD_PATH)
    assert head is not None
    broken = IntentClassifier(head, _Broken())
    assert broken.score("what's BTC at?") is None
    plan = plan_turn("what's BTC at?", ConversationContext(), classifier=broken)
    assert plan.intent == "price" and plan.confident


def _scores(**probabilities: float) -> IntentScores:
    return IntentScores({label: probabilities.get(label, 0.01) for label in LABELS})


def test_a_rule_stands_and_the_classifier_only_vouches_for_it() -> None:
    agree = arbitrate("price", "rule", lambda: _scores(price=0.9), has_symbols=True, lead=False)
    differ = arbitrate(
        "price", "rule", lambda: _scores(forecast=0.95), has_symbols=True, lead=False
    )
    assert (agree.intent, agree.confident) == ("price", True)
    assert (differ.intent, differ.confident) == ("price", False)


def test_where_no_rule_spoke_a_confident_classifier_decides_and_an_unsure_one_says_so() -> None:
    sure = arbitrate(
        "unknown", "default", lambda: _scores(none=0.97), has_symbols=False, lead=False
    )
    unsure = arbitrate(
        "unknown", "default", lambda: _scores(price=0.4), has_symbols=False, lead=False
    )
    assert (sure.intent, sure.decided_by) == ("off_topic", "classifier")
    assert (unsure.intent, unsure.confident) == ("unknown", False)


def test_a_follow_up_keeps_its_thread_unless_it_is_plainly_about_something_else() -> None:
    kept = arbitrate(
        "forecast", "context", lambda: _scores(forecast=0.9), has_symbols=False, lead=True
    )
    away = arbitrate(
        "forecast", "context", lambda: _scores(none=0.98), has_symbols=False, lead=False
    )
    assert kept.intent == "forecast" and away.intent == "off_topic"


def test_an_off_topic_question_gets_no_tool_and_says_what_is_covered() -> None:
    from agent.offline.compose import compose_offline

    context = ConversationContext(last_symbols=["AVAX-USD"], last_intent="forecast")
    plan = plan_turn("btw whats the weather tomorrow in berlin", context)
    assert plan.intent == "off_topic" and plan.tool_calls == []
    assert "outside what I cover" in compose_offline(plan, [], [])
