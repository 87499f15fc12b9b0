"""How the offline composer writes the `calls` section of `forecast_accuracy`: the assistant's
own buy/sell calls (the technical stances it served) against what the coin did. Every figure
comes from the section itself."""

from __future__ import annotations

from typing import Any

from agent.offline import formatting as fmt

NOTHING_SCORED = "no scored calls yet: the first ones are scored 1 day after they are served"
_SIDE_TITLES = {
    "bullish": "Bullish calls (buy)",
    "bearish": "Bearish calls (sell)",
    "neutral": "Neutral calls",
}


def _days(h: str) -> str:
    return "1 day" if h == "1" else f"{h} days"


def _ret(value: float | None) -> str:
    return fmt.pct(value * 100) if value is not None else "n/a"


def _share(value: float | None) -> str:
    return f"{value * 100:.1f}%" if value is not None else "n/a"


def _side_line(side: str, s: dict[str, Any], base: dict[str, Any]) -> str:
    parts = []
    for h, m in s["horizons"].items():
        if not m["n"]:
            parts.append(f"after {_days(h)} none scored yet")
            continue
        b = base.get(h) or {}
        if side == "neutral":
            parts.append(
                f"after {_days(h)} ({m['n']} scored) mean return {_ret(m['mean_return'])} "
                f"against the coin's {_ret(b.get('mean_return'))}"
            )
            continue
        moved = "up" if side == "bullish" else "down"
        share = b.get("up_share") if side == "bullish" else b.get("down_share")
        parts.append(
            f"after {_days(h)} ({m['n']} scored) right {_share(m['hit_rate'])}, mean return "
            f"{_ret(m['mean_return'])}, against the coin going {moved} on {_share(share)} of "
            f"days, mean {_ret(b.get('mean_return'))}"
        )
    return f"- {_SIDE_TITLES[side]}: {s['calls']} served; " + "; ".join(parts) + "."


def _latest_line(c: dict[str, Any]) -> str:
    when = c["as_of"][:10] if c["as_of"][11:16] == "00:00" else c["as_of"][:16].replace("T", " ")
    after = [
        f"{_ret(c[f'return_{h}d'])} after {_days(str(h))}"
        for h in (1, 7, 30)
        if c.get(f"return_{h}d") is not None
    ]
    outcome = ", ".join(after) if after else "not scored yet"
    return (
        f"{when} {c['stance'].replace('_', ' ')} (score {c['score']:+.2f}) at "
        f"{fmt.price(c['close'])}: {outcome}"
    )


def calls_lines(calls: dict[str, Any] | None) -> list[str]:
    """The paragraph on the assistant's buy/sell calls (none when the ledger is not wired)."""
    if calls is None:
        return []
    bars = "daily" if calls["interval"] == "1d" else "hourly"
    head = f"**Buy and sell calls** (the technical stance served, {bars} bars, since {calls['since']}):"
    if not calls["scored"]:
        served = f" ({calls['served']} served in that period)" if calls["served"] else ""
        return [f"{head} {NOTHING_SCORED}{served}."]
    lines = [
        f"{head} {calls['served']} served, {calls['scored']} scored; a buy call is right when the "
        "price is higher later, a sell call when it is lower."
    ]
    lines += [
        _side_line(side, s, calls["base"]) for side, s in calls["sides"].items() if s["calls"]
    ]
    if calls["latest"]:
        lines.append("Latest calls: " + "; ".join(_latest_line(c) for c in calls["latest"]) + ".")
    return lines
