"""`crypto-assistant backtest SYMBOL [RULE]`: the same backtest `POST /backtest` answers, as
rich tables (the event study per side and horizon, the strategies against buy-and-hold)."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

import typer
from rich.markup import escape
from rich.table import Table

from cli.common import cli_services, console

Interval = Literal["1d", "1h"]


def _pct(fraction: float | None) -> str:
    return "-" if fraction is None else f"{fraction * 100:+.2f}%"


def _share(fraction: float | None) -> str:
    return "-" if fraction is None else f"{fraction * 100:.1f}%"


def _when(text: str | None, option: str) -> date | datetime | None:
    """A date (`2024-06-01`, that UTC day's end) or an ISO date-time; BadParameter otherwise."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


def events_table(report: dict[str, Any]) -> Table:
    """One row per side and horizon: occurrences, hit rate and mean return against all days."""
    table = Table(
        "side", "days", "n", "hit rate", "all days", "mean return", "all days", "p", "verdict",
        title=f"{report['symbol']} {report['rule']}: what followed each signal",
    )  # fmt: skip
    sides = [report["side"]] if report.get("side") else ["buy", "sell"]
    for side in sides:
        for days, stats in zip(report["horizon_days"], report["events"][side], strict=False):
            if not stats["enough"]:
                table.add_row(side, str(days), str(stats["n"]), *["-"] * 5, "not enough history")
                continue
            verdict = "significant" if stats["significant"] else "not significant"
            table.add_row(
                side,
                str(days),
                str(stats["n"]),
                _share(stats["hit_rate"]),
                _share(stats["base_hit_rate"]),
                _pct(stats["mean_return"]),
                _pct(stats["base_mean_return"]),
                f"{stats['p_value']:.3f}",
                verdict if stats["favourable"] else f"{verdict}, against the signal",
            )
    return table


def strategy_table(report: dict[str, Any]) -> Table:
    """Long/flat, long/short and buy-and-hold over the same bars, net of costs."""
    strategy = report["strategy"]
    table = Table(
        "strategy", "total", "annual", "sharpe", "max drawdown", "exposure", "trades",
        title=f"net of {strategy['fee_bps']:g} bps fee + {strategy['slippage_bps']:g} bps slippage",
    )  # fmt: skip
    for name in ("long_flat", "long_short", "buy_hold"):
        row = strategy[name]
        sharpe = "-" if row["sharpe"] is None else f"{row['sharpe']:.2f}"
        table.add_row(
            name.replace("_", "/") if name != "buy_hold" else "buy-and-hold",
            _pct(row["total_return"]),
            _pct(row["annual_return"]),
            sharpe,
            f"{min(row['max_drawdown'], 0.0) * 100:.2f}%",
            _share(row["exposure"]),
            str(row["trades"]),
        )
    return table


def backtest(
    symbol: Annotated[str, typer.Argument(help="symbol, ticker or name")],
    rule: Annotated[str, typer.Argument(help="rule name or alias, e.g. golden_cross")] = "stance",
    start: Annotated[str | None, typer.Option(help="YYYY-MM-DD: first day")] = None,
    end: Annotated[str | None, typer.Option(help="YYYY-MM-DD: bars up to that day's end")] = None,
    interval: Annotated[Interval, typer.Option(help="1d or 1h")] = "1d",
    horizon_days: Annotated[
        int | None, typer.Option(min=1, max=365, help="one horizon; default 1, 7, 30")
    ] = None,
    fee_bps: Annotated[float, typer.Option(min=0, max=1000, help="fee per trade")] = 10.0,
    slippage_bps: Annotated[float, typer.Option(min=0, max=1000, help="slippage")] = 5.0,
    as_json: Annotated[bool, typer.Option("--json", help="print the JSON answer")] = False,
) -> None:
    """How a rule (or the summary stance) did: the event study against all days and the
    strategies net of costs against buy-and-hold, on stored bars up to --end."""
    from agent.errors import AppError

    first, last = _when(start, "--start"), _when(end, "--end")
    services = cli_services()
    try:
        report = asyncio.run(
            services.backtests.run(
                symbol,
                rule,
                interval=interval,
                start=first,
                end=last,
                horizon_days=horizon_days,
                fee_bps=fee_bps,
                slippage_bps=slippage_bps,
            )
        )
    except AppError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(1) from None
    finally:
        services.db.close()
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    console.print(
        f"[bold]{report['symbol']}[/bold] {report['rule']} ({report['interval']}): "
        f"{report['start'][:10]} to {report['end'][:10]}, {report['bars']} bars"
    )
    console.print(events_table(report))
    console.print(strategy_table(report))
    beats = "beats" if report["strategy"]["beats_buy_hold"] else "does not beat"
    console.print(f"Long/flat {beats} buy-and-hold over the period.")
    for note in report.get("notes", []):
        console.print(f"[dim]{escape(note)}[/dim]")
