"""The deterministic offline planner: one message plus the thread's context -> a tool plan.

Used when no language model is configured, and before asking one. It reads the intent from
the rules (`agent.offline.reading`) weighed against the intent classifier
(`agent.offline.arbiter`), the entities from `agent.offline.entities`, fills gaps from the
conversation context (follow-ups such as "and for ETH?" or "make it 14 days") and emits the
same tool calls an LLM would make. The service running the plan drops calls to tools not
available.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from agent.offline.arbiter import Scorer, arbitrate
from agent.offline.backtest_words import backtest_rule, backtest_start
from agent.offline.calls import DEFAULT_INTERVAL, PlannedCall, plan_calls
from agent.offline.classifier import default_classifier
from agent.offline.context import ConversationContext
from agent.offline.cues import LATEST_CUE, NOT_YET_GENERIC, also_asked, not_yet
from agent.offline.dates import DateWindow
from agent.offline.entities import Entities, extract_entities, extract_symbols
from agent.offline.intents import (
    DEFINITION_PATTERN,
    FOLLOWUP_LEAD,
    INDICATOR_TITLES,
    SYMBOL_INTENTS,
    Intent,
)
from agent.offline.reading import classify
from agent.offline.unknown_coins import extract_unknown_coins
from agent.offline.windows import asked_window

__all__ = ["ConversationContext", "Plan", "plan_turn"]

HORIZON_MIN, HORIZON_MAX = 1, 30
DEFAULT_HORIZON_DAYS = 7
# Look-back window when none is given: a day for a quote, a month for views and track records.
DEFAULT_PERIOD_DAYS: dict[str, int] = {"price": 1, "compare": 30, "advice": 30, "accuracy": 30}
INTERVAL_INTENTS = frozenset({"price", "technical", "advice", "compare"})
HORIZON_INTENTS = frozenset({"forecast", "advice"})
INDICATOR_INTENTS = frozenset({"technical", "advice", "compare"})


class Plan(BaseModel):
    """The planner's reading of a turn and the tool calls that answer it."""

    intent: Intent
    symbols: list[str] = Field(default_factory=list)
    interval: str | None = None
    period_days: int | None = None
    horizon_days: int | None = None
    indicators: list[str] = Field(default_factory=list)
    as_of: date | None = None
    window: DateWindow | None = None  # a past day or days asked about (price questions)
    also: list[Intent] = Field(default_factory=list)  # engines asked besides `intent`
    latest_too: bool = False  # "current price and what it was on 2024-01-01"
    unknown_symbols: list[str] = Field(default_factory=list)  # named, but not in the catalogue
    concept: str | None = None
    rule: str | None = None  # the signal a backtest question is about (a rule or alias)
    since: date | None = None  # where a backtest period starts, when asked
    is_followup: bool = False
    # False when the keyless reading is unsure (the intent classifier and the rules disagree or
    # score low): a configured model is asked instead, else the assistant says what it can do
    confident: bool = True
    tool_calls: list[PlannedCall] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def updated_context(self, previous: ConversationContext) -> ConversationContext:
        """The context after this turn: topical turns overwrite, chit-chat keeps the thread's."""
        if self.intent not in SYMBOL_INTENTS:
            return previous.model_copy(
                update={
                    "turn": previous.turn + 1,
                    "last_symbols": self.symbols or previous.last_symbols,
                }
            )
        return ConversationContext(
            last_symbols=self.symbols or previous.last_symbols,
            last_intent=self.intent,
            last_interval=self.interval or previous.last_interval,
            last_indicators=(
                list(self.indicators)
                if self.intent in INDICATOR_INTENTS
                else list(previous.last_indicators)
            ),
            last_horizon_days=self.horizon_days or previous.last_horizon_days,
            last_period_days=self.period_days or previous.last_period_days,
            last_window=self.window if self.intent == "price" else None,
            last_also=list(self.also),
            turn=previous.turn + 1,
        )


def _rule_name(lowered: str) -> str:
    """The backtest tool's rule argument: the side's own name where the words name one."""
    rule, side = backtest_rule(lowered)
    named = {("ma_cross", "buy"): "golden_cross", ("ma_cross", "sell"): "death_cross",
             ("rsi", "buy"): "rsi_oversold", ("rsi", "sell"): "rsi_overbought"}  # fmt: skip
    return named.get((rule, side or ""), rule)


def _first(*values: int | None) -> int:
    """The first value that is set (the last argument is always a default)."""
    return next(value for value in values if value is not None)


def _explain_subject(lowered: str, ents: Entities) -> str:
    """The concept to look up: a known indicator/concept, else the words after the trigger."""
    if ents.concept is not None:
        return ents.concept
    definition = re.match(DEFINITION_PATTERN, lowered)
    if definition is not None:
        return definition.group("rest").strip()
    stripped = re.sub(
        r"\b(explain|define|definition|meaning|of|what|does|do|mean|how|work|tell|me|about|"
        r"please|can|you|the|a|an|is|are|help|understand|eli5)\b|[?!.,]",
        " ",
        lowered,
    )
    return " ".join(stripped.split()) or lowered.strip(" ?!.")


def _why_concept(context: ConversationContext) -> str | None:
    """What "why?" asks about, given the previous turn's intent and indicators."""
    if context.last_intent in INDICATOR_INTENTS:
        titles = [INDICATOR_TITLES[name] for name in context.last_indicators]
        return f"{', '.join(titles)} signals" if titles else "technical analysis signals"
    topics = {"forecast": "price forecast model", "accuracy": "forecast accuracy metrics",
              "sentiment": "news sentiment", "price": "price change"}  # fmt: skip
    return topics.get(context.last_intent or "")


def plan_turn(
    text: str,
    context: ConversationContext,
    *,
    today: date | None = None,
    classifier: Scorer | Literal["default"] | None = "default",
    vouch: bool = True,
) -> Plan:
    """Plan one user message given the thread's context (`today` anchors "ytd", "this month";
    `classifier` scores the intent, the shipped one by default, None for the rules alone;
    `vouch`: have it check the rules' decisions too, which only matters when a model could be
    asked instead)."""
    if classifier == "default":
        classifier = default_classifier()
    lowered = " ".join(text.lower().replace("’", "'").split())
    ents = extract_entities(text, today=today)
    intent, borrowed, source = classify(lowered, ents, context, today or date.today())
    scorer = classifier
    decision = arbitrate(
        intent,
        source,
        lambda: scorer.score(text) if scorer is not None else None,
        has_symbols=bool(ents.symbols),
        lead=bool(re.match(FOLLOWUP_LEAD, lowered)),
        vouch=vouch,
    )
    if decision.intent != intent:
        borrowed = False
    intent = decision.intent
    why = intent == "explain" and borrowed
    same_thread = borrowed or bool(re.match(FOLLOWUP_LEAD, lowered))
    carry = intent == context.last_intent and (same_thread or not ents.symbols)
    symbols, missing, notes = list(ents.symbols), [], []
    used_context = borrowed

    if why:
        concept = _why_concept(context)
        symbols = list(context.last_symbols[:1]) if context.last_intent in INDICATOR_INTENTS else []
        missing = [] if concept else ["concept"]
    else:
        concept = _explain_subject(lowered, ents) if intent == "explain" else None
    if intent == "not_yet":
        concept = not_yet(lowered) or NOT_YET_GENERIC
    unknown = extract_unknown_coins(text) if intent in SYMBOL_INTENTS or ents.indicators else []
    if unknown and not symbols and intent == "explain" and ents.indicators:
        intent = "technical"  # "what's the RSI on FLOKI": a reading of a coin not covered
    if unknown and symbols:
        notes.append(f"I have no data on {', '.join(unknown)}, so the answer leaves it out")
    lenient = source == "rule" and decision.decided_by == "rules"  # a rule's words need a coin
    if (
        lenient
        and (intent in SYMBOL_INTENTS or intent == "not_yet")
        and not symbols
        and not unknown
    ):
        symbols = extract_symbols(text, lenient=True)  # "technical view for ripple"
    if intent in SYMBOL_INTENTS:
        wanted = 2 if intent == "compare" else 1
        if len(symbols) < wanted and context.last_symbols and not unknown:
            symbols = list(dict.fromkeys([*context.last_symbols, *symbols]))
            used_context = True
        if len(symbols) < wanted:
            missing.append("symbol")

    also = also_asked(lowered, ents, intent) if symbols else []
    also += [kind for kind in decision.also if kind not in also]
    if carry and same_thread and symbols and not also:  # "same for xrp" after "price and news"
        also = [kind for kind in context.last_also if kind != intent]
    interval = None
    if INTERVAL_INTENTS.intersection([intent, *also]) or (intent == "explain" and symbols):
        interval = ents.interval or (context.last_interval if carry or why else None)
        interval = interval or DEFAULT_INTERVAL
    indicators = ents.indicators or (
        list(context.last_indicators) if carry or (why and symbols) else []
    )
    period = horizon = None
    if intent in DEFAULT_PERIOD_DAYS:
        last_period = context.last_period_days if carry else None
        default = DEFAULT_PERIOD_DAYS[intent]
        period = max(1, _first(ents.period_days, ents.duration_days, last_period, default))
    if HORIZON_INTENTS.intersection([intent, *also]):
        last_horizon = context.last_horizon_days if carry else None
        asked = _first(ents.horizon_days, ents.duration_days, last_horizon, DEFAULT_HORIZON_DAYS)
        horizon = min(max(asked, HORIZON_MIN), HORIZON_MAX)
        if horizon != asked:
            notes.append(
                f"forecast horizon of {asked} days is outside the supported "
                f"{HORIZON_MIN} to {HORIZON_MAX} days; using {horizon}"
            )
    plan = Plan(
        intent=intent,
        symbols=symbols,
        interval=interval,
        period_days=period,
        horizon_days=horizon,
        indicators=(
            indicators
            if INDICATOR_INTENTS.intersection([intent, *also]) or intent == "explain"
            else []
        ),
        also=also,
        unknown_symbols=unknown,
        as_of=ents.as_of,
        window=asked_window(ents, context.last_window, lowered, carry)
        if "price" in (intent, *also)
        else None,
        latest_too=bool(re.search(LATEST_CUE, lowered)),
        concept=concept,
        rule=_rule_name(lowered) if intent == "backtest" else None,
        since=backtest_start(lowered) if intent == "backtest" else None,
        is_followup=used_context or (carry and same_thread),
        missing=missing,
        notes=notes,
        confident=decision.confident,
    )
    if not missing:
        plan.tool_calls = plan_calls(plan, why)
    return plan
