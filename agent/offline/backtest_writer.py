"""How the offline composer writes a backtest: what followed the signal against all days, and
the rule traded against buy-and-hold, every figure from the tool's result."""

from __future__ import annotations

from typing import Any

SHOWN_HORIZON = 7


def _share(x: float) -> str:
    return f"{x * 100:.0f}%"


def _ret(x: float) -> str:
    return f"{x * 100:+.2f}%"


def _event_sentence(side: str, label: str, stats: dict[str, Any], days: int, since: str) -> str:
    if not stats["enough"]:
        return (
            f"**{side.title()} side** ({label}): it fired {stats['n']} time(s) since {since}, "
            "not enough history to say whether it works."
        )
    way = "up" if side == "buy" else "down"
    if stats["significant"]:
        verdict = f"significant (p = {stats['p_value']:.3f}), " + (
            "in the signal's favour" if stats["favourable"] else "against the signal"
        )
    else:
        verdict = f"not significant (p = {stats['p_value']:.2f}): within what chance gives"
    return (
        f"**{side.title()} side** ({label}): it fired {stats['n']} times since {since}. "
        f"{days} days later the coin was {way} {_share(stats['hit_rate'])} of the time, "
        f"against {_share(stats['base_hit_rate'])} on all days; the mean return after it was "
        f"{_ret(stats['mean_return'])} against {_ret(stats['base_mean_return'])} on all days, "
        f"{verdict}."
    )


def _shown(result: dict[str, Any]) -> tuple[int, int]:
    """The horizon an answer quotes (7 days when computed, else the one asked) and its index."""
    days = list(result.get("horizon_days") or [1, 7, 30])
    at = days.index(SHOWN_HORIZON) if SHOWN_HORIZON in days else 0
    return days[at], at


def _strategy(result: dict[str, Any]) -> str:
    s = result["strategy"]
    flat, hold = s["long_flat"], s["buy_hold"]
    line = (
        f"Trading it long/flat (long on its buy readings, paying {s['fee_bps']:g} bp fees and "
        f"{s['slippage_bps']:g} bp slippage per trade) returned "
        f"{_ret(flat['total_return'])} with {flat['trades']} trades and a worst drawdown of "
        f"{_ret(flat['max_drawdown'])}; buying and holding over the same days returned "
        f"{_ret(hold['total_return'])} (worst drawdown {_ret(hold['max_drawdown'])})."
    )
    if s["beats_buy_hold"]:
        return line + " The rule beat simply holding over this period."
    return line + " Simply holding did better."


def backtest_block(result: dict[str, Any]) -> str:
    """The event study at 7 days (or the one horizon asked), the side asked first, then the
    strategy against buy-and-hold, and what it means."""
    days, at = _shown(result)
    since = str(result["start"])[:10]
    sides = ["sell", "buy"] if result.get("side") == "sell" else ["buy", "sell"]
    if result.get("side") in ("buy", "sell"):
        sides = [result["side"]]
    events = result["events"]
    lines = [
        f"**Backtest of {result['rule']} on {result['symbol']}** ({result['interval']} bars, "
        f"{since} to {str(result['end'])[:10]}; entry at the next bar's open, no look-ahead)."
    ]
    lines += [
        _event_sentence(side, result["labels"][side], events[side][at], days, since)
        for side in sides
    ]
    lines.append(_strategy(result))
    if result.get("side") == "sell":
        lines.append("(The strategy trades the rule's buy readings; the sell side is above.)")
    asked = [events[side][at] for side in sides]
    if not any(s["enough"] for s in asked):
        lines.append("In plain words: too few occurrences to judge this signal on this coin.")
    elif not any(s["enough"] and s["significant"] and s["favourable"] for s in asked):
        lines.append(
            "In plain words: no evidence that this signal beats chance on this coin; treat it "
            "as a description of the chart, not a prediction."
        )
    return "\n\n".join(lines)


def track_note(signal: dict[str, Any]) -> str:
    """A signal's history in a few words, for the technical view's bullets ("" when none)."""
    record = signal.get("track_record")
    if not record:
        return ""
    if not record["enough"]:
        return f" (history: only {record['n']} such turns, not enough to judge)"
    way = "up" if record["side"] == "buy" else "down"
    verdict = (
        ("significant" if record["favourable"] else "significant, against the signal")
        if record["significant"]
        else "not significant"
    )
    return (
        f" (history: fired {record['n']} times since {record['since']}; {record['horizon']} bars "
        f"later {way} {_share(record['hit_rate'])} of the time vs "
        f"{_share(record['base_hit_rate'])} on all bars, {verdict})"
    )


def backtest_summary(result: dict[str, Any]) -> str:
    """One line for the web chat's steps: the rule, the 7-day buy record, the strategy."""
    days, at = _shown(result)
    side = result.get("side") or "buy"
    stats = result["events"][side][at]
    record = (
        f"{side} n={stats['n']}, {days} d hit {_share(stats['hit_rate'])} vs "
        f"{_share(stats['base_hit_rate'])}"
        if stats["enough"]
        else f"{side} n={stats['n']} (not enough history)"
    )
    flat, hold = result["strategy"]["long_flat"], result["strategy"]["buy_hold"]
    return (
        f"{result['symbol']} {result['rule']}: {record}; long/flat "
        f"{_ret(flat['total_return'])} vs buy and hold {_ret(hold['total_return'])}"
    )
