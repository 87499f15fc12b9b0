"""The tool calls of a resolved plan: the agent's tool contract, per intent, for each coin.

A question may ask several engines at once ("RSI and the forecast for BTC", "price and news
on SOL"): the plan's `also` lists the engines asked besides its main intent, and each adds its
calls (the composer writes every result, in the order of the tool table).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from agent import toolkit as names

if TYPE_CHECKING:
    from agent.offline.planner import Plan

DEFAULT_INTERVAL = "1d"


class PlannedCall(BaseModel):
    """One tool call of a plan: the tool's name and its keyword arguments."""

    name: str
    args: dict[str, Any] = Field(default_factory=dict)


def _price(plan: Plan, symbol: str) -> PlannedCall:
    """A get_price call over the plan's period and interval, as of the asked date; a
    price_history call for a past day or window."""
    if plan.window is not None:
        window = {"start": plan.window.start.isoformat(), "end": plan.window.end.isoformat()}
        return PlannedCall(
            name=names.PRICE_HISTORY,
            args={"symbol": symbol, **window, "interval": plan.interval or DEFAULT_INTERVAL},
        )
    args: dict[str, Any] = {
        "symbol": symbol,
        "period_days": plan.period_days or 1,
        "interval": plan.interval or DEFAULT_INTERVAL,
    }
    if plan.as_of:
        args["as_of"] = plan.as_of.isoformat()
    return PlannedCall(name=names.GET_PRICE, args=args)


def _technical(plan: Plan, symbol: str) -> PlannedCall:
    """A technical_analysis call (indicators None = every group the engine has)."""
    return PlannedCall(
        name=names.TECHNICAL_ANALYSIS,
        args={
            "symbol": symbol,
            "interval": plan.interval or DEFAULT_INTERVAL,
            "indicators": list(plan.indicators) or None,
            "as_of": plan.as_of.isoformat() if plan.as_of and not plan.latest_too else None,
        },
    )


def _forecast(plan: Plan, symbol: str) -> PlannedCall:
    return PlannedCall(
        name=names.FORECAST_PRICE, args={"symbol": symbol, "horizon_days": plan.horizon_days}
    )


def _engine_calls(plan: Plan, kind: str, symbol: str) -> list[PlannedCall]:
    """The calls one intent makes for one coin."""
    if kind == "price":
        return [_price(plan, symbol)]
    if kind == "technical":
        return [_technical(plan, symbol)]
    if kind == "compare":  # on the engines asked, else on price and the technical picture
        return [] if plan.also else [_price(plan, symbol), _technical(plan, symbol)]
    if kind == "advice":
        sentiment = PlannedCall(name=names.NEWS_SENTIMENT, args={"symbol": symbol})
        return [_price(plan, symbol), _technical(plan, symbol), _forecast(plan, symbol), sentiment]
    if kind == "forecast":
        return [_forecast(plan, symbol)]
    if kind == "accuracy":
        args = {"symbol": symbol, "period_days": plan.period_days or 30}
        return [PlannedCall(name=names.FORECAST_ACCURACY, args=args)]
    if kind == "sentiment":
        return [PlannedCall(name=names.NEWS_SENTIMENT, args={"symbol": symbol})]
    if kind == "backtest":
        args = {"symbol": symbol, "rule": plan.rule or "stance"}
        if plan.since is not None:
            args["start"] = plan.since.isoformat()
        return [PlannedCall(name=names.BACKTEST, args=args)]
    return []


def plan_calls(plan: Plan, why: bool) -> list[PlannedCall]:
    """Every call of the plan, each (tool, arguments) once."""
    calls: list[PlannedCall] = []
    for symbol in plan.symbols:
        for kind in (plan.intent, *plan.also):
            calls += [c for c in _engine_calls(plan, kind, symbol) if c not in calls]
        if plan.window is not None and plan.latest_too and "price" in (plan.intent, *plan.also):
            latest = plan.model_copy(update={"window": None, "as_of": None})
            calls.insert(0, _price(latest, symbol))
    if plan.intent == "explain" and plan.concept:
        calls.append(PlannedCall(name=names.SEARCH_KNOWLEDGE, args={"query": plan.concept}))
        calls += [
            PlannedCall(name=names.EXPLAIN_INDICATOR, args={"name": i}) for i in plan.indicators
        ]
        if plan.symbols and (why or plan.indicators):
            calls.append(_technical(plan, plan.symbols[0]))
    return calls
