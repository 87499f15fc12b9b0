"""Offline answers: clear, formatted text composed only from this turn's tool results."""

from __future__ import annotations

from typing import Any

from agent import formatting as fmt
from agent.planner import Plan
from agent.state import ToolRun
from knowledge.market.symbols import CATALOGUE

OFFLINE_FOOTER = "_Offline mode: answered by the built-in planner, without a language model._"
RISK_NOTE = (
    "Risk note: crypto prices are volatile and these readings describe the past, not the future. "
    "This is not financial advice; never risk more than you can afford to lose."
)
CAPABILITIES = (
    "I can help with:\n"
    '- **prices**: "what\'s BTC at?", "how much did ETH move last week?"\n'
    '- **technical views**: "is ETH oversold?", "technical view on SOL", "RSI of BTC hourly"\n'
    '- **an overall view**: "should I buy BTC?" (evidence from every tool, with a risk note)\n'
    '- **comparisons**: "compare BTC and ETH"\n'
    '- **explanations**: "what is RSI?", "explain bollinger bands", or "why?" after an answer\n'
    f"Coins: {', '.join(c.ticker for c in CATALOGUE)}."
)
_UNAVAILABLE = {
    "forecast_price": "price forecasts are not available yet in this version",
    "forecast_accuracy": "forecast accuracy is not available yet in this version",
    "news_sentiment": "news sentiment is not available yet in this version",
    "search_knowledge": "the knowledge base is not available yet in this version",
}


def _by_tool(results: list[ToolRun], name: str) -> list[ToolRun]:
    return [r for r in results if r["name"] == name]


def _failure(run: ToolRun) -> str:
    return f"I could not run {run['name'].replace('_', ' ')} for {run['args'].get('symbol', 'this')}: {run['error']}"


def _price_line(p: dict[str, Any]) -> str:
    period = "day" if p["period_days"] == 1 else f"{p['period_days']} days"
    direction = "up" if p["change_pct"] >= 0 else "down"
    line = (
        f"**{p['name']} ({p['symbol']})** closed at {fmt.price(p['close'])} USD on {p['as_of']}, "
        f"{direction} {abs(p['change_pct']):.2f}% over the last {period} "
        f"(range {fmt.price(p['low'])} to {fmt.price(p['high'])})."
    )
    if p["stale"]:
        line += f" Note: this data is not current ({p['freshness']})."
    return line


_FOCUS_READINGS = {
    "rsi": ("RSI 14", "rsi_14", 1), "macd": ("MACD histogram", "macd_hist", 2),
    "bbands": ("Bollinger %B", "bb_percent_b", 2), "adx": ("ADX 14", "adx_14", 1),
    "stoch": ("Stochastic %K", "stoch_k", 1), "willr": ("Williams %R", "willr_14", 1),
    "cci": ("CCI 20", "cci_20", 1), "mfi": ("MFI 14", "mfi_14", 1), "roc": ("ROC 10", "roc_10", 2),
    "atr": ("ATR 14", "atr_14", None), "sma": ("SMA 50", "sma_50", None),
    "ema": ("EMA 50", "ema_50", None), "sar": ("Parabolic SAR", "sar", None),
    "obv": ("OBV", "obv", 0),
}  # fmt: skip


# signal rule names of each indicator group, where they differ from the group name
_FOCUS_SIGNALS = {
    "bbands": ("bollinger",), "sma": ("ma_cross", "trend"), "ema": ("trend",),
    "adx": ("adx", "trend"), "patterns": ("candlestick",),
}  # fmt: skip


def _key_readings(values: dict[str, Any], focus: list[str] | None = None) -> str:
    focused = [_FOCUS_READINGS[f] for f in focus or [] if f in _FOCUS_READINGS]
    picks = focused or [
        ("RSI 14", "rsi_14", 1), ("MACD histogram", "macd_hist", 2), ("Bollinger %B", "bb_percent_b", 2),
        ("ADX 14", "adx_14", 1), ("SMA 50", "sma_50", None), ("SMA 200", "sma_200", None),
    ]  # fmt: skip
    parts = []
    for label, key, decimals in picks:
        value = values.get(key)
        if value is None:
            continue
        parts.append(
            f"{label} {fmt.price(value) if decimals is None else fmt.number(value, decimals)}"
        )
    return ", ".join(parts)


def _technical_block(t: dict[str, Any], limit: int = 6) -> str:
    summary = t["summary"]
    interval = "daily" if t["interval"] == "1d" else "hourly"
    lines = [
        f"**Technical view on {t['symbol']}** ({interval} bars, as of {t['as_of'][:16].replace('T', ' ')}): "
        f"**{summary['stance']}** (score {summary['score']:+.2f}).",
    ]
    focus = t.get("focus") or []
    readings = _key_readings(t["values"], focus)
    if readings:
        lines.append(f"Key readings: {readings}.")

    prefixes = tuple(p for f in focus for p in _FOCUS_SIGNALS.get(f, (f,)))

    def rank(signal: dict[str, Any]) -> tuple[bool, bool]:
        in_focus = bool(prefixes) and signal["name"].startswith(prefixes)
        return (not in_focus, signal["action"] == "hold")

    signals = sorted(t["signals"], key=rank)
    bullets = [f"- {s['action'].upper()}: {s['reason']}" for s in signals[:limit]]
    if bullets:
        lines.append("\n".join(bullets) + "\n")
    levels = t["levels"]
    if levels.get("support") or levels.get("resistance"):
        sup = ", ".join(fmt.price(v) for v in levels.get("support", [])[:2]) or "none found"
        res = ", ".join(fmt.price(v) for v in levels.get("resistance", [])[:2]) or "none found"
        lines.append(f"Support: {sup}. Resistance: {res}.")
    for pattern in t.get("patterns_latest_bar", []):
        lines.append(f"Candlestick on the latest bar: {pattern['name']} ({pattern['direction']}).")
    return "\n".join(lines)


def _explanation(e: dict[str, Any]) -> str:
    return (
        f"**{e['title']}** measures {e['measures']}. It is computed as {e['computed']}. "
        f"How to read it: {e['reading']}. Trap: {e['traps']}."
    )


def _missing(plan: Plan) -> str:
    if "symbol" in plan.missing:
        need = "two coins" if plan.intent == "compare" else "which coin"
        return f"Which coin do you mean? Tell me {need}, for example BTC or ETH.\n\n{CAPABILITIES}"
    return "Could you say a little more about what you would like explained?"


def compose_offline(plan: Plan, results: list[ToolRun], notes: list[str]) -> str:
    """The answer for this turn's plan from the tool results (never a figure from elsewhere)."""
    parts: list[str] = [f"Note: {n.rstrip('.')}." for n in notes]
    failed = [r for r in results if not r["ok"]]
    done = [r for r in results if r["ok"]]
    skipped = {c.name for c in plan.tool_calls} - {r["name"] for r in results}
    prices = [r["result"] for r in _by_tool(done, "get_price")]
    techs = {r["result"]["symbol"]: r["result"] for r in _by_tool(done, "technical_analysis")}
    explains = [r["result"] for r in _by_tool(done, "explain_indicator")]

    if plan.missing:
        parts.append(_missing(plan))
    elif plan.intent == "help":
        parts.append(CAPABILITIES)
    elif plan.intent == "smalltalk":
        parts.append(
            "Hello! I'm a crypto analysis assistant: every figure I give comes from my tools.\n\n"
            + CAPABILITIES
        )
    elif plan.intent == "unknown":
        parts.append("I'm not sure what you're asking.\n\n" + CAPABILITIES)
    elif plan.intent == "price":
        parts += [_price_line(p) for p in prices]
    elif plan.intent == "technical":
        parts += [_technical_block(t) for t in techs.values()]
    elif plan.intent == "compare":
        for p in prices:
            line = _price_line(p)
            t = techs.get(p["symbol"])
            if t:
                rsi = t["values"].get("rsi_14")
                rsi_text = f", RSI 14 {rsi:.1f}" if rsi is not None else ""
                line += f" Technical stance: **{t['summary']['stance']}** (score {t['summary']['score']:+.2f}{rsi_text})."
            parts.append(line)
    elif plan.intent == "advice":
        parts.append("I can't tell you what to do, but here is what the tools show.")
        parts += [_price_line(p) for p in prices]
        parts += [_technical_block(t, limit=5) for t in techs.values()]
    elif plan.intent == "explain":
        parts += [_explanation(e) for e in explains]
        parts += [_technical_block(t, limit=4) for t in techs.values()]
        if not explains and not techs:
            parts.append(
                f"I don't have an explanation of {plan.concept!r} yet: I can explain the technical "
                "indicators I compute (RSI, MACD, Bollinger Bands, moving averages, stochastic, "
                "Williams %R, CCI, ADX, ATR, OBV, MFI, ROC, Parabolic SAR, candlestick patterns)."
            )
    parts += [_failure(r) for r in failed]
    parts += [f"({_UNAVAILABLE[name]}.)" for name in sorted(skipped) if name in _UNAVAILABLE]
    if plan.intent == "advice":
        parts.append(RISK_NOTE)
    parts.append(OFFLINE_FOOTER)
    return "\n\n".join(p for p in parts if p)
