"""Offline answers: clear, formatted text composed only from this turn's tool results."""

from __future__ import annotations

from typing import Any

from agent import tool_names as names
from agent.graph.state import ToolRun
from agent.offline import formatting as fmt
from agent.offline.planner import Plan
from agent.services.knowledge import compose_knowledge_answer
from agent.services.sentiment import compose_sentiment
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
    '- **forecasts**: "forecast BTC for the next week" (with the model\'s skill against naive)\n'
    '- **track record**: "how accurate were your BTC forecasts last month?"\n'
    '- **news mood**: "what is the news sentiment on Solana?"\n'
    '- **explanations**: "what is RSI?", "explain bollinger bands", or "why?" after an answer\n'
    f"Coins: {', '.join(c.ticker for c in CATALOGUE)}."
)


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


def _skill_sentence(f: dict[str, Any]) -> str:
    skill, h = f.get("skill_vs_naive"), f.get("metrics_horizon")
    m, b = f.get("metrics") or {}, f.get("baseline") or {}
    window = f.get("evaluation") or {}
    where = f" (walk-forward {window.get('start')} to {window.get('end')})" if window else ""
    if skill is None:
        return "This model has no out-of-sample evaluation recorded, so its skill is unknown."
    if skill <= 0:
        return (
            f"**The model has no skill here**: out of sample{where}, its {h}-day error (MAE "
            f"{fmt.price(m['mae'])}) was not better than the naive 'price stays the same' forecast "
            f"(MAE {fmt.price(b['mae'])}; skill {skill:+.3f}). Treat this as no better than assuming "
            f"the price stays at {fmt.price(f['last_close'])}."
        )
    return (
        f"Out of sample{where}, at {h} day(s) the model beat the naive forecast: MAE "
        f"{fmt.price(m['mae'])} vs {fmt.price(b['mae'])} (skill {skill:+.3f}), direction right "
        f"{m['directional_accuracy'] * 100:.1f}% of days (price rose on {m['up_share'] * 100:.1f}%), "
        f"interval coverage {m['coverage'] * 100:.1f}%. The skill is small: this is a tilt, not a promise."
    )


def _forecast_block(f: dict[str, Any]) -> str:
    points = f["predictions"]
    last = points[-1]
    level = f"{f['interval_level'] * 100:.0f}%"
    lines = [
        f"**Forecast for {f['symbol']}** (model {f['model_version']}, from the close of "
        f"{f['as_of']} at {fmt.price(f['last_close'])}): on {last['date']} "
        f"{fmt.price(last['price'])}, {level} interval {fmt.price(last['lower'])} to "
        f"{fmt.price(last['upper'])}."
    ]
    if len(points) > 1:
        shown = points[:3] if len(points) <= 3 else [*points[:2], points[-1]]
        lines.append(
            "\n".join(
                f"- {p['date']}: {fmt.price(p['price'])} ({fmt.price(p['lower'])} to {fmt.price(p['upper'])})"
                for p in shown
            )
            + "\n"
        )
    lines.append(_skill_sentence(f))
    return "\n".join(lines)


def _accuracy_block(a: dict[str, Any]) -> str:
    lines = [f"**Forecast accuracy for {a['symbol']}** over the last {a['period_days']} days:"]
    h1 = a["realized"]["1"]
    if h1["n"]:
        lines.append(
            f"{h1['n']} served next-day forecasts were scored: MAPE {h1['mape_realized']:.2f}%, "
            f"skill against naive {h1['skill_vs_naive']:+.3f}, interval coverage "
            f"{h1['interval_coverage'] * 100:.1f}%."
        )
    else:
        total = a["realized_all_time"]
        lines.append(
            f"no served forecast has been scored in that period yet ({total['n']} scored in all, "
            f"{total['pending']} waiting for their actual close)."
        )
    backtest = a.get("backtest")
    if backtest:
        window = backtest["window"]
        lines.append(
            f"Walk-forward backtest of {a['champion']} ({window['start']} to {window['end']}):"
        )
        lines += [
            f"- {h} day(s): MAPE {m['mape']:.2f}% vs naive {m['naive_mape']:.2f}%, skill {m['skill']:+.3f}, "
            f"direction right {m['directional_accuracy'] * 100:.1f}%"
            for h, m in sorted(backtest["metrics"].items(), key=lambda kv: int(kv[0]))
        ]
    else:
        lines.append("There is no trained model for it yet.")
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
    prices = [r["result"] for r in _by_tool(done, names.GET_PRICE)]
    techs = {r["result"]["symbol"]: r["result"] for r in _by_tool(done, names.TECHNICAL_ANALYSIS)}
    explains = [r["result"] for r in _by_tool(done, names.EXPLAIN_INDICATOR)]
    forecasts = [r["result"] for r in _by_tool(done, names.FORECAST_PRICE)]
    accuracies = [r["result"] for r in _by_tool(done, names.FORECAST_ACCURACY)]
    sentiments = [r["result"] for r in _by_tool(done, names.NEWS_SENTIMENT)]
    hits = [h for r in _by_tool(done, names.SEARCH_KNOWLEDGE) for h in r["result"]["hits"]]

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
        parts += [_forecast_block(f) for f in forecasts]
        parts += [compose_sentiment(x) for x in sentiments]
    elif plan.intent == "sentiment":
        parts += [compose_sentiment(x) for x in sentiments]
    elif plan.intent == "forecast":
        parts += [_forecast_block(f) for f in forecasts]
    elif plan.intent == "accuracy":
        parts += [_accuracy_block(a) for a in accuracies]
    elif plan.intent == "explain":
        parts += [_explanation(e) for e in explains]
        if hits:
            parts.append(compose_knowledge_answer(plan.concept or "", hits))
        parts += [_technical_block(t, limit=4) for t in techs.values()]
        if not explains and not techs and not hits:
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
