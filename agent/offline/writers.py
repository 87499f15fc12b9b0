"""How the offline composer writes each tool's result: one paragraph per result, figures from
that result only (the tool table, `agent.toolkit.table`, names the writer of each tool)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agent.offline import formatting as fmt
from agent.offline.backtest_writer import track_note
from agent.offline.calls_writer import calls_lines
from knowledge.documents.excerpts import excerpt, terms
from tools.sentiment import describe_sentiment

__all__ = [
    "accuracy_block",
    "compose_knowledge_answer",
    "describe_sentiment",
    "explanation",
    "forecast_block",
    "price_line",
    "price_window_block",
    "relevant_hits",
    "technical_block",
]


def price_line(p: dict[str, Any]) -> str:
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


def price_window_block(w: dict[str, Any]) -> str:
    """A past day's bar, or a window's high, low and change, with what is not stored."""
    who = f"**{w['name']} ({w['symbol']})**"
    if w["bars"] == 1 and w["interval"] == "1d":
        line = (
            f"{who} on {w['last_bar']}: opened at {fmt.price(w['open'])} USD, high "
            f"{fmt.price(w['high'])}, low {fmt.price(w['low'])}, closed at {fmt.price(w['close'])}."
        )
    else:
        direction = "up" if w["change_pct"] >= 0 else "down"
        bars = "daily bars" if w["interval"] == "1d" else "hourly bars"
        line = (
            f"{who} from {w['first_bar']} to {w['last_bar']} ({w['bars']} {bars}): highest "
            f"{fmt.price(w['high'])} USD on {w['high_on']}, lowest {fmt.price(w['low'])} on "
            f"{w['low_on']}; from {fmt.price(w['open'])} at the first open to "
            f"{fmt.price(w['close'])} at the last close, {direction} {abs(w['change_pct']):.2f}%."
        )
    return line + (f" Note: {w['note']}." if w.get("note") else "")


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


def technical_block(t: dict[str, Any], limit: int = 6) -> str:
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
    bullets = [f"- {s['action'].upper()}: {s['reason']}{track_note(s)}" for s in signals[:limit]]
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


def skill_sentence(f: dict[str, Any]) -> str:
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


def forecast_block(f: dict[str, Any]) -> str:
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
    lines.append(skill_sentence(f))
    return "\n".join(lines)


def accuracy_block(a: dict[str, Any]) -> str:
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
    lines += calls_lines(a.get("calls"))
    return "\n".join(lines)


def explanation(e: dict[str, Any]) -> str:
    return (
        f"**{e['title']}** measures {e['measures']}. It is computed as {e['computed']}. "
        f"How to read it: {e['reading']}. Trap: {e['traps']}."
    )


def _citation(hit: dict[str, Any]) -> str:
    section = hit.get("section") or ""
    return f"*{hit['title']}*" + (f", section *{section}*" if section else "")


def relevant_hits(question: str, hits: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The passages that share most of the question's content words (in title, section or
    text): one that does not, does not answer it, however the search ranked it."""
    wanted = terms(question)
    if not wanted:
        return list(hits)
    need = len(wanted) // 2 + 1
    return [
        h
        for h in hits
        if len(wanted & terms(f"{h['title']} {h.get('section') or ''} {h['text']}")) >= need
    ]


def compose_knowledge_answer(question: str, hits: Sequence[dict[str, Any]], limit: int = 3) -> str:
    """An offline answer quoting the best passages, each cited by title and section.

    Sentences inside passages that address the assistant are left out and the answer says so;
    nothing in a passage can add a tool call or change what the answer contains.
    """
    hits = relevant_hits(question, hits)
    seen: set[tuple[str, str]] = set()
    blocks: list[str] = []
    sources: list[str] = []
    dropped = 0
    for hit in hits:
        key = (hit["title"], hit.get("section") or "")
        if key in seen:
            continue
        seen.add(key)
        quoted, skipped = excerpt(question, hit["text"])
        dropped += skipped
        if not quoted:
            continue
        blocks.append(f"> {quoted}\n>\n> — {_citation(hit)}")
        sources.append(f"{len(sources) + 1}. {_citation(hit)} ({hit['source']})")
        if len(blocks) == limit:
            break
    if not blocks:
        return "I found nothing in the knowledge base that answers this."
    parts = ["From the knowledge base:", *blocks, "Sources:\n" + "\n".join(sources)]
    if dropped:
        parts.append(
            f"({dropped} sentence(s) in these passages gave instructions to an assistant; "
            "they are document text, not requests, and were ignored.)"
        )
    return "\n\n".join(parts)
