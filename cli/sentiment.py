"""`crypto-assistant sentiment ...` and `crypto-assistant news refresh`.

`sentiment train` fits the embedding head on a labelled CSV (no database needed); `score`,
`show`, `trend` and `status` answer from the same service the API uses; `news refresh` pulls the
configured feeds and subreddits, stores and tags new items and scores them once.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markdown import Markdown
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.common import cli_services as _services
from cli.common import cli_settings as _settings
from cli.common import console

sentiment_app = typer.Typer(help="News sentiment: train, score, show, trend.", no_args_is_help=True)
news_app = typer.Typer(help="News sources.", no_args_is_help=True)


@news_app.callback()
def _news() -> None:
    """News sources: `refresh` pulls them."""


@sentiment_app.callback()
def _sentiment() -> None:
    """News sentiment: train, score, show, trend, status."""


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]{exc}[/red]")
    return typer.Exit(1)


@sentiment_app.command("train")
def train(
    csv_path: Annotated[Path, typer.Argument(help="labelled CSV: text,label", exists=True)],
    test_size: Annotated[float, typer.Option(help="held-out share")] = 0.2,
    seed: Annotated[int, typer.Option(help="split and CV seed")] = 42,
) -> None:
    """Train the embedding head; report its held-out evaluation; save it as the next version."""
    from agent.errors import KnowledgeError, ToolError
    from agent.services.sentiment_models import HEAD_RELOAD_SECONDS, train_embedding_head

    settings = _settings()
    try:
        with console.status("training") as status:
            meta = train_embedding_head(
                csv_path,
                settings.resolved_model_dir,
                test_size=test_size,
                seed=seed,
                on_stage=lambda s: status.update(s),
            )
    except (KnowledgeError, ToolError, ValueError) as exc:
        raise _fail(exc) from None
    evaluation = meta["evaluation"]
    table = Table("label", "precision", "recall", "F1", "support")
    for label, row in evaluation["per_label"].items():
        table.add_row(
            label,
            f"{row['precision']:.3f}",
            f"{row['recall']:.3f}",
            f"{row['f1']:.3f}",
            f"{row['support']:.0f}",
        )
    console.print(table)
    split = meta["split"]
    console.print(
        f"embedding-head v{meta['version']}: held-out accuracy {evaluation['accuracy']:.3f}, "
        f"macro-F1 {evaluation['macro_f1']:.3f} on {split['test_rows']} rows never trained on "
        f"(C={meta['hyperparameters']['C']:g}). Saved to {meta['path']}"
    )
    backend = getattr(settings, "sentiment_backend", "auto")
    if backend in ("auto", "embedding"):
        console.print(
            f"A running server picks it up within {HEAD_RELOAD_SECONDS:g} seconds, no restart "
            "needed"
            + (" (unless it scores with a local transformers model)." if backend == "auto" else ".")
        )
    else:
        console.print(f"SENTIMENT_BACKEND={backend}: the server does not use embedding heads.")


@sentiment_app.command("score")
def score(texts: Annotated[list[str], typer.Argument(help="texts to score")]) -> None:
    """Score texts directly with the selected analyzer."""
    from agent.errors import ServiceError
    from agent.services.sentiment import service_for

    services = _services()
    try:
        result = asyncio.run(service_for(services).score_texts(texts))
    except ServiceError as exc:
        raise _fail(exc) from None
    finally:
        services.db.close()
    table = Table("text", "label", "score", "confidence")
    for item in result["items"]:
        table.add_row(
            item["text"][:80], item["label"], f"{item['score']:+.3f}", f"{item['confidence']:.2f}"
        )
    console.print(table)
    overall = result["overall"]
    console.print(f"model {result['model']}: overall {overall['label']} {overall['score']:+.3f}")


@sentiment_app.command("show")
def show(
    symbol: Annotated[str, typer.Argument(help="symbol, ticker or name")],
    days: Annotated[float, typer.Option(help="window in days")] = 7,
    as_of: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD: news before that day's end")
    ] = None,
) -> None:
    """A symbol's news sentiment over the window, with its headlines."""
    from agent.errors import KnowledgeError, ServiceError
    from agent.offline.writers import describe_sentiment
    from agent.services.sentiment import service_for

    services = _services()
    try:
        when = date.fromisoformat(as_of) if as_of else None
        result = asyncio.run(service_for(services).symbol_sentiment(symbol, days, when))
    except (KnowledgeError, ServiceError, ValueError) as exc:
        raise _fail(exc) from None
    finally:
        services.db.close()
    console.print(Markdown(describe_sentiment(result)))


@sentiment_app.command("trend")
def trend(
    symbol: Annotated[str, typer.Argument(help="symbol, ticker or name")],
    days: Annotated[int, typer.Option(help="number of days")] = 30,
) -> None:
    """Daily mean score and item count."""
    from agent.errors import KnowledgeError, ServiceError
    from agent.services.sentiment import service_for

    services = _services()
    try:
        result = asyncio.run(service_for(services).trend(symbol, days))
    except (KnowledgeError, ServiceError) as exc:
        raise _fail(exc) from None
    finally:
        services.db.close()
    table = Table("date", "items", "score", "label")
    for row in result["days"]:
        shown = f"{row['score']:+.3f}" if row["score"] is not None else "-"
        table.add_row(row["date"], str(row["n"]), shown, row["label"] or "")
    console.print(table)
    console.print(result["message"] or f"{result['n']} items, scored by {result['models']}")


@sentiment_app.command("status")
def status() -> None:
    """Which analyzer is in use (the head's version and trained time) and why others were
    passed over."""
    from agent.errors import ServiceError
    from agent.services.sentiment import service_for

    services = _services()
    try:
        report = service_for(services).status()
    except ServiceError as exc:
        raise _fail(exc) from None
    finally:
        services.db.close()
    console.print(f"analyzer: [bold]{report['analyzer']}[/bold]")
    head = report["head"]
    if head is not None:
        f1 = head["macro_f1"]
        console.print(
            f"  head v{head['version']}, trained {head['trained_at'] or 'at an unknown time'}"
            + (f", held-out macro-F1 {f1:.3f}" if isinstance(f1, int | float) else "")
            + f" ({escape(head['path'])})"
        )
    for note in report["notes"]:
        console.print(f"  skipped: {escape(note)}")
    reload = report["reload"]
    if reload.get("watching"):
        console.print(
            f"  a newer trained head is picked up within {reload['every_seconds']:g} seconds "
            "(by a running server too, without a restart)"
        )
    if reload["last_error"]:
        console.print(f"  [yellow]newer head not loaded: {escape(reload['last_error'])}[/yellow]")


@news_app.command("refresh")
def refresh() -> None:
    """Pull the configured feeds and subreddits; store, tag and score new items."""
    from agent.errors import KnowledgeError, ServiceError
    from agent.services.sentiment import service_for

    services = _services()
    bars = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    try:
        service = service_for(services)
        with bars:
            tasks = {
                "fetch": bars.add_task("Fetching sources", total=len(service.config.feed_specs())),
                "score": bars.add_task("Scoring new items", total=None),
            }

            def on_progress(stage: str, done: int, total: int) -> None:
                bars.update(tasks[stage], completed=done, total=total)

            report = asyncio.run(service.refresh_news(on_progress))
    except (KnowledgeError, ServiceError) as exc:
        raise _fail(exc) from None
    finally:
        services.db.close()
    table = Table("source", "status", "entries", "new", "seconds", "detail")
    for feed in report["feeds"]:
        colour = {"ok": "green", "not_modified": "cyan"}.get(feed["status"], "red")
        table.add_row(
            feed["name"],
            f"[{colour}]{feed['status']}[/{colour}]",
            str(feed["entries"]),
            str(feed["new"]),
            f"{feed['seconds']:.1f}",
            feed["error"] or "",
        )
    console.print(table)
    console.print(
        f"{report['new_items']} new item(s), {report['scored']} scored"
        + (f" by {report['model']}" if report["model"] else "")
    )
    if report["feeds"] and report["failed"] == len(report["feeds"]):
        console.print("[red]Every source failed.[/red]")
        raise typer.Exit(1)
