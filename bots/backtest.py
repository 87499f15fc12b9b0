"""The `/backtest` reply: a rule's event study at 7 days and its long/flat strategy against
buy-and-hold, in a few lines of Telegram HTML; and the hint listing rule names."""

from __future__ import annotations

from typing import Any

from agent.offline import formatting as fmt
from agent.services.backtest import RULE_ALIASES, RULE_NAMES
from bots.formatting import escape

SHOWN_DAYS = 7
"""The horizon the reply shows (the service computes 1, 7 and 30 days)."""
EXAMPLE_RULES = ("stance", "golden_cross", "death_cross", "macd", "rsi", "bollinger", "sar")
USAGE = "/backtest BTC golden_cross"


def _pct(fraction: float | None) -> str:
    """A fraction as the bot's signed percentage (0.052 -> +5.20%)."""
    return "n/a" if fraction is None else fmt.pct(fraction * 100)


def _drawdown(fraction: float) -> str:
    """A drawdown (<= 0) without a plus sign for none: -18.75% / 0.00%."""
    return f"{min(fraction, 0.0) * 100:.2f}%"


def _share(fraction: float | None) -> str:
    return "n/a" if fraction is None else f"{fraction * 100:.1f}%"


def rules_hint(lead: str) -> str:
    """`lead`, then a few valid rule names and an example (HTML)."""
    names = ", ".join(EXAMPLE_RULES)
    more = len(RULE_NAMES) + len(RULE_ALIASES) - len(EXAMPLE_RULES)
    return (
        f"{escape(lead)} Try one of: {escape(names)} (and {more} more). "
        f"For example: {escape(USAGE)}"
    )


def _shown(report: dict[str, Any]) -> int:
    """Index of the horizon shown: 7 days when computed, else the first asked."""
    days = list(report.get("horizon_days") or [])
    return days.index(SHOWN_DAYS) if SHOWN_DAYS in days else 0


def _side_lines(side: str, label: str, stats: dict[str, Any], days: int) -> list[str]:
    head = f"<b>{side.title()}</b> · {escape(label)}: {stats['n']} time(s)"
    if not stats["enough"]:
        return [f"{head}, not enough history to say anything."]
    way = "up" if side == "buy" else "down"
    verdict = (
        f"significant (p {stats['p_value']:.3f}), "
        + ("in the signal's way" if stats["favourable"] else "against the signal")
        if stats["significant"]
        else f"not significant (p {stats['p_value']:.2f})"
    )
    return [
        head,
        f"• {days} days later {way} {_share(stats['hit_rate'])} of the time, "
        f"against {_share(stats['base_hit_rate'])} of all days",
        f"• mean {days}-day return {_pct(stats['mean_return'])} against "
        f"{_pct(stats['base_mean_return'])} on all days: {verdict}",
    ]


def backtest_message(report: dict[str, Any]) -> str:
    """`/backtest`: occurrences, hit rate and mean return at 7 days against all days, with the
    verdict; long/flat total return against buy-and-hold net of costs; trades and drawdown."""
    interval = "daily" if report["interval"] == "1d" else "hourly"
    start, end = str(report["start"])[:10], str(report["end"])[:10]
    index = _shown(report)
    days = (report.get("horizon_days") or [SHOWN_DAYS])[index]
    lines = [
        f"<b>Backtest: {escape(report['symbol'])} · {escape(report['rule'])}</b> "
        f"({interval}, {start} to {end}, {report['bars']} bars)",
    ]
    sides = [report["side"]] if report.get("side") else ["buy", "sell"]
    for side in sides:
        lines += _side_lines(side, report["labels"][side], report["events"][side][index], days)
    strategy = report["strategy"]
    flat, hold = strategy["long_flat"], strategy["buy_hold"]
    costs = f"{strategy['fee_bps']:g} bps fee + {strategy['slippage_bps']:g} bps slippage"
    beats = "beats" if strategy["beats_buy_hold"] else "trails"
    lines += [
        "",
        f"<b>Long/flat</b> ({costs} a trade): {_pct(flat['total_return'])}, {beats} "
        f"buy-and-hold {_pct(hold['total_return'])}",
        f"{flat['trades']} trade(s), max drawdown {_drawdown(flat['max_drawdown'])} "
        f"(buy-and-hold {_drawdown(hold['max_drawdown'])})",
    ]
    if report.get("current"):
        lines.append(f"Reading on the last bar: {escape(str(report['current']))}")
    lines += [escape(note) for note in report.get("notes", [])]
    lines.append("<i>Past results do not promise future ones. Not financial advice.</i>")
    return "\n".join(lines)


def backtest_caption(report: dict[str, Any]) -> str:
    """The caption under the equity chart."""
    return (
        f"<b>{escape(report['symbol'])}</b> {escape(report['rule'])}: long/flat and long/short "
        "equity against buy-and-hold, net of costs."
    )
