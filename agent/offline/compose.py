"""Offline answers: clear, formatted text composed only from this turn's tool results."""

from __future__ import annotations

from agent.graph.state import ToolRun
from agent.offline.planner import Plan
from agent.offline.writers import price_line
from agent.toolkit import GET_PRICE, TECHNICAL_ANALYSIS, TOOLS
from knowledge.market.symbols import CATALOGUE

OFFLINE_FOOTER = "_Offline mode: answered by the built-in planner, without a language model._"
RISK_NOTE = (
    "Risk note: crypto prices are volatile and these readings describe the past, not the future. "
    "This is not financial advice; never risk more than you can afford to lose."
)
CAPABILITIES = (
    "I can help with:\n"
    '- **prices**: "what\'s BTC at?", "how much did ETH move last week?"\n'
    "- **past prices**: a day's open, high, low and close, or the high and low of a month, "
    "a year or any window of days (write the date, month or year)\n"
    '- **technical views**: "is ETH oversold?", "technical view on SOL", "RSI of BTC hourly"\n'
    '- **an overall view**: "should I buy BTC?" (evidence from every tool, with a risk note)\n'
    '- **comparisons**: "compare BTC and ETH"\n'
    '- **forecasts**: "forecast BTC for the next week" (with the model\'s skill against naive)\n'
    '- **track record**: "how accurate were your BTC forecasts last month?"\n'
    '- **news mood**: "what is the news sentiment on Solana?"\n'
    '- **explanations**: "what is RSI?", "explain bollinger bands", or "why?" after an answer\n'
    f"Coins: {', '.join(c.ticker for c in CATALOGUE)}."
)


def _failure(run: ToolRun) -> str:
    return f"I could not run {run['name'].replace('_', ' ')} for {run['args'].get('symbol', 'this')}: {run['error']}"


def _missing(plan: Plan) -> str:
    if plan.unknown_symbols:
        named = ", ".join(plan.unknown_symbols)
        return (
            f"I don't cover {named}: I have market data, models and news only for "
            f"{', '.join(c.ticker for c in CATALOGUE)}. Ask about one of those."
        )
    if "symbol" in plan.missing:
        need = "two coins" if plan.intent == "compare" else "which coin"
        return f"Which coin do you mean? Tell me {need}, for example BTC or ETH.\n\n{CAPABILITIES}"
    return "Could you say a little more about what you would like explained?"


def _compare(done: list[ToolRun]) -> list[str]:
    """One line per coin: its quote, with the technical stance beside it."""
    techs = {r["result"]["symbol"]: r["result"] for r in done if r["name"] == TECHNICAL_ANALYSIS}
    lines = []
    for p in (r["result"] for r in done if r["name"] == GET_PRICE):
        line = price_line(p)
        t = techs.get(p["symbol"])
        if t:
            rsi = t["values"].get("rsi_14")
            rsi_text = f", RSI 14 {rsi:.1f}" if rsi is not None else ""
            line += f" Technical stance: **{t['summary']['stance']}** (score {t['summary']['score']:+.2f}{rsi_text})."
        lines.append(line)
    return lines


def _written(plan: Plan, done: list[ToolRun]) -> list[str]:
    """Each result as its tool's writer puts it, in the order of the tool table."""
    return [spec.write(r["result"], plan) for spec in TOOLS for r in done if r["name"] == spec.name]


def compose_offline(plan: Plan, results: list[ToolRun], notes: list[str]) -> str:
    """The answer for this turn's plan from the tool results (never a figure from elsewhere)."""
    parts: list[str] = [f"Note: {n.rstrip('.')}." for n in notes]
    failed = [r for r in results if not r["ok"]]
    done = [r for r in results if r["ok"]]
    if plan.missing:
        parts.append(_missing(plan))
    elif plan.intent == "help":
        parts.append(CAPABILITIES)
    elif plan.intent == "smalltalk":
        parts.append(
            "Hello! I'm a crypto analysis assistant: every figure I give comes from my tools.\n\n"
            + CAPABILITIES
        )
    elif plan.intent == "off_topic":
        parts.append(
            "That is outside what I cover: I answer questions about crypto markets from my "
            "tools, and have nothing reliable to say on other subjects.\n\n" + CAPABILITIES
        )
    elif plan.intent == "unknown":
        parts.append("I'm not sure what you're asking.\n\n" + CAPABILITIES)
    elif plan.intent == "not_yet":
        parts.append(f"I can't answer that yet: {plan.concept}.\n\n{CAPABILITIES}")
    elif plan.intent == "compare" and not plan.also:
        parts += _compare(done)
    else:
        if plan.intent == "advice":
            parts.append("I can't tell you what to do, but here is what the tools show.")
        written = [text for text in _written(plan, done) if text]
        parts += written
        if plan.intent == "explain" and not written:
            parts.append(
                f"I don't have an explanation of {plan.concept!r} yet: I can explain the technical "
                "indicators I compute (RSI, MACD, Bollinger Bands, moving averages, stochastic, "
                "Williams %R, CCI, ADX, ATR, OBV, MFI, ROC, Parabolic SAR, candlestick patterns)."
            )
    parts += [_failure(r) for r in failed]
    if plan.intent == "advice":
        parts.append(RISK_NOTE)
    parts.append(OFFLINE_FOOTER)
    return "\n\n".join(p for p in parts if p)
