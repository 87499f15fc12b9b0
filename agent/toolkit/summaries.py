"""One line per finished tool call, for the web chat's steps: the key figures of the result,
written like the answers (same number formats) so a step can be matched with the sentence that
quotes it."""

from __future__ import annotations

from typing import Any

from agent.offline.formatting import number, pct, price

INTERVAL_NAMES = {"1d": "daily", "1h": "hourly"}


def technical(result: dict[str, Any]) -> str:
    """Stance and score, RSI, MACD histogram and the count of signals by action."""
    summary = result.get("summary") or {}
    values = result.get("values") or {}
    as_of = str(result.get("as_of") or "")[:16].replace("T", " ")
    interval = INTERVAL_NAMES.get(str(result.get("interval")), str(result.get("interval")))
    parts = [
        f"{result.get('symbol')} ({interval}, as of {as_of}): "
        f"**{summary.get('stance', 'n/a')}** (score {float(summary.get('score', 0.0)):+.2f})"
    ]
    if values.get("rsi_14") is not None:
        parts.append(f"RSI 14 {number(float(values['rsi_14']), 1)}")
    if values.get("macd_hist") is not None:
        parts.append(f"MACD histogram {number(float(values['macd_hist']))}")
    actions = [str(s.get("action")) for s in result.get("signals") or []]
    if actions:
        counts = ", ".join(f"{actions.count(a)} {a}" for a in ("buy", "sell", "hold"))
        parts.append(f"signals: {counts}")
    return "; ".join(parts)


def price_summary(result: dict[str, Any]) -> str:
    """The close, its date and the change over the window (flagged when stale)."""
    text = (
        f"{result.get('name')} ({result.get('symbol')}) close {price(float(result['close']))} "
        f"on {result.get('as_of')}, {pct(float(result['change_pct']))} over "
        f"{result.get('period_days')} d"
    )
    if result.get("stale"):
        text += f" (stale: {result.get('freshness')})"
    return text


def price_window(result: dict[str, Any]) -> str:
    """The day's close, or the window's high, low and change."""
    if result["bars"] == 1:
        return (
            f"{result.get('symbol')} close {price(float(result['close']))} on {result['last_bar']}"
        )
    return (
        f"{result.get('symbol')} {result['first_bar']} to {result['last_bar']}: high "
        f"{price(float(result['high']))}, low {price(float(result['low']))}, "
        f"{pct(float(result['change_pct']))}"
    )


def explanation(result: dict[str, Any]) -> str:
    """The indicator's title and what it measures."""
    return f"{result.get('title')}: {result.get('measures')}"


def forecast(result: dict[str, Any]) -> str:
    """The last forecast point with its interval, and the skill against naive."""
    last = result["predictions"][-1]
    skill = result.get("skill_vs_naive")
    skill_text = "skill unknown" if skill is None else f"skill vs naive {skill:+.3f}"
    return (
        f"{result.get('symbol')} {len(result['predictions'])} d: {price(float(last['price']))} "
        f"on {last['date']} ({price(float(last['lower']))} to {price(float(last['upper']))}), "
        f"{skill_text}"
    )


def sentiment(result: dict[str, Any]) -> str:
    """The label and score over the window, with the number of items read."""
    overall = result.get("overall") or {}
    days = (result.get("window") or {}).get("days")
    if not overall.get("n"):
        return f"{result.get('symbol')}: no sentiment reading (no scored item in the window)"
    return (
        f"{result.get('symbol')}: {overall.get('label')} {float(overall['score']):+.2f} from "
        f"{overall['n']} item(s) over {days:g} d"
    )


def knowledge(result: dict[str, Any]) -> str:
    """How many passages were found, and the titles of the first ones."""
    hits = result.get("hits") or []
    titles = list(dict.fromkeys(str(h.get("title")) for h in hits))[:3]
    return f"{len(hits)} passage(s): {'; '.join(titles)}" if hits else "no passage found"
