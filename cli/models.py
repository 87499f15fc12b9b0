"""`crypto-assistant models ...`: train, evaluate, list, promote, retrain when drifted, validate."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, TaskID
from rich.table import Table

from cli.common import cli_services as _services
from cli.common import console, progress_bar

app = typer.Typer(help="Forecast models: train, evaluate, list, promote.", no_args_is_help=True)


def fold_counter(bars: Progress, task: TaskID) -> Callable[[int, int], None]:
    """`on_fold` for a bar: walk-forward calls it with (folds done, counted from 1, number of
    folds) (`tools.forecast.FoldProgress`), so that count is the bar's `completed` as is."""

    def on_fold(done: int, total: int) -> None:
        bars.update(task, total=total, completed=done)

    return on_fold


def epoch_counter(bars: Progress, task: TaskID, epochs: int) -> Callable[[int, float, float], None]:
    """`on_epoch` for a bar of at most `epochs`: called with (epochs done, counted from 1,
    loss, validation loss) (`tools.forecast.train.Progress`); early stopping ends it sooner."""

    def on_epoch(done: int, loss: float, val_loss: float) -> None:
        bars.update(task, visible=True, total=epochs, completed=done,
                    info=f"loss {loss:.4f} val {val_loss:.4f}")  # fmt: skip

    return on_epoch


def _train_one(services: Any, symbol: str) -> Any:
    from agent.services.training import TrainProgress

    with progress_bar("info") as bars:
        folds = bars.add_task(f"{symbol} walk-forward folds", total=None, info="")
        epochs = bars.add_task(f"{symbol} final fit epochs", total=None, info="", visible=False)
        config = services.training._config()
        progress = TrainProgress(
            on_fold=fold_counter(bars, folds),
            on_epoch=epoch_counter(bars, epochs, config.epochs),
            on_stage=console.log,
        )
        return services.training.train(symbol, progress)


def _wanted(services: Any, symbols: list[str] | None, all_: bool) -> list[str]:
    """The symbols named (resolved, unknown ones fail), or with --all every one with daily data."""
    return services.training.symbols_with_data() if all_ else services.market.symbols(symbols or [])


@app.command("train")
def train(
    symbols: Annotated[list[str] | None, typer.Argument(help="symbols to train")] = None,
    all_: Annotated[bool, typer.Option("--all", help="every symbol with daily data")] = False,
) -> None:
    """Evaluate walk-forward, fit, register; promote only if the champion is beaten."""
    from agent.errors import KnowledgeError, ServiceError, ToolError

    services = _services()
    try:
        wanted = _wanted(services, symbols, all_)
        if not wanted:
            console.print("[yellow]Name symbols or use --all.[/yellow]")
            raise typer.Exit(2)
        table = Table("symbol", "version", "MAE h1", "naive MAE h1", "skill h1", "decision")
        for symbol in wanted:
            try:
                outcome = _train_one(services, symbol)
            except (KnowledgeError, ServiceError, ToolError) as exc:
                table.add_row(symbol, "", "", "", "", f"[red]{exc}[/red]")
                continue
            h1 = outcome.metrics["1"]
            table.add_row(symbol, f"v{outcome.version}", f"{h1['mae']:.6g}", f"{h1['naive_mae']:.6g}",
                          f"{h1['skill']:+.3f}", outcome.reason)  # fmt: skip
        console.print(table)
    finally:
        services.db.close()


@app.command("evaluate")
def evaluate(
    symbol: Annotated[str, typer.Argument(help="symbol")],
    start: Annotated[str, typer.Option(help="first test day YYYY-MM-DD")],
    end: Annotated[str, typer.Option(help="last test day YYYY-MM-DD")],
    out: Annotated[Path, typer.Option(help="report folder")] = Path("reports/forecast"),
) -> None:
    """Walk-forward report against naive on a window: a table and a PNG plot."""
    from agent.services.reports import write_evaluation
    from agent.services.training import TrainProgress

    services = _services()
    try:
        resolved = services.market.symbols([symbol])[0]
        with progress_bar("info") as bars:
            task = bars.add_task(f"{resolved} folds", total=None, info="")
            progress = TrainProgress(on_fold=fold_counter(bars, task))
            report = services.training.evaluate(
                resolved, date.fromisoformat(start), date.fromisoformat(end), progress=progress
            )
        written = write_evaluation({resolved: report}, out)
        table = Table(
            "horizon",
            "n",
            "MAPE %",
            "MAE",
            "naive MAE",
            "skill",
            "direction",
            "up days",
            "coverage",
        )
        for m in report.metrics:
            table.add_row(str(m.horizon), str(m.n), f"{m.mape:.2f}", f"{m.mae:.6g}", f"{m.naive_mae:.6g}",
                          f"{m.skill:+.3f}", f"{m.directional_accuracy:.1%}", f"{m.up_share:.1%}", f"{m.coverage:.1%}")  # fmt: skip
        console.print(table)
        console.print("Written: " + ", ".join(str(p) for p in written.values()))
    finally:
        services.db.close()


@app.command("list")
def list_models() -> None:
    """Every registered version with its metrics and champion flag."""
    services = _services()
    try:
        table = Table(
            "symbol", "version", "status", "trained", "train end", "MAE h1", "skill h1", "notes"
        )
        for v in services.training.registry.versions():
            h1 = v.metrics.get("1", {})
            skill = h1.get("skill")
            table.add_row(v.symbol, f"v{v.version}", v.status, v.created_at.strftime("%Y-%m-%d %H:%M"),
                          v.train_end.isoformat(), f"{h1.get('mae', float('nan')):.6g}",
                          f"{skill:+.3f}" if skill is not None else "", v.notes)  # fmt: skip
        console.print(table)
    finally:
        services.db.close()


@app.command("promote")
def promote(symbol: str, version: Annotated[int, typer.Argument(help="version number")]) -> None:
    """Make a version the champion (the previous one is archived)."""
    from agent.errors import KnowledgeError

    services = _services()
    try:
        chosen = services.training.promote(symbol, version)
        console.print(f"{chosen.symbol} v{chosen.version} is now the champion.")
    except KnowledgeError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        services.db.close()


@app.command("retrain")
def retrain(
    symbols: Annotated[list[str] | None, typer.Argument()] = None,
    if_drifted: Annotated[bool, typer.Option("--if-drifted", help="only drifted symbols")] = False,
) -> None:
    """Retrain (for a scheduler: with --if-drifted, only where drift is flagged)."""
    services = _services()
    try:
        wanted = (
            services.market.symbols(symbols) if symbols else services.training.symbols_with_data()
        )
        if if_drifted:
            wanted = services.training.drifted(wanted)
            console.print(f"Drifted or without a champion: {', '.join(wanted) or 'none'}")
        for symbol in wanted:
            outcome = _train_one(services, symbol)
            console.print(f"{symbol} v{outcome.version}: {outcome.reason}")
    finally:
        services.db.close()


@app.command("validate")
def validate(
    symbols: Annotated[list[str] | None, typer.Argument()] = None,
    all_: Annotated[bool, typer.Option("--all")] = False,
    max_regression: Annotated[float, typer.Option(help="allowed skill drop")] = 0.05,
    report: Annotated[Path, typer.Option(help="JSON report path")] = Path(
        "reports/model-validation.json"
    ),
) -> None:
    """CI gate: evaluate a fresh fit on the champion's window; fail if skill regresses."""
    from agent.services.reports import validate_models

    services = _services()
    try:
        wanted = _wanted(services, symbols, all_)
        results = validate_models(services.training, wanted, max_regression)
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(results, indent=2, default=str))
        table = Table("symbol", "champion skill", "candidate skill", "verdict")
        for r in results:
            table.add_row(
                r["symbol"], str(r["champion_skill"]), str(r["candidate_skill"]), r["verdict"]
            )
        console.print(table)
        if any(r["verdict"] == "regressed" for r in results):
            raise typer.Exit(1)
    finally:
        services.db.close()
