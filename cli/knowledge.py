"""`crypto-assistant knowledge ...`: ingest documents, search them, refresh model cards, stats."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.common import cli_services as _services
from cli.common import console

app = typer.Typer(help="Knowledge base: ingest, search, model cards.", no_args_is_help=True)
KindOption = Literal["guide", "coin", "news", "model_card"]
_STYLE = {"added": "green", "updated": "cyan", "unchanged": "dim", "removed": "yellow",
          "failed": "red"}  # fmt: skip


def _results_table(results: list[Any]) -> Table:
    table = Table("document", "kind", "chunks", "status")
    for r in results:
        style = _STYLE.get(r.status, "")
        status = f"[{style}]{r.status}[/{style}]" + (f": {r.message}" if r.message else "")
        table.add_row(r.title or r.source, r.kind, str(r.chunks) if r.chunks else "", status)
    return table


def _summary(results: list[Any]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    chunks = sum(r.chunks for r in results)
    shown = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing"
    return f"{shown}; {chunks} chunk(s) written."


@app.command("ingest")
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files or folders (md, txt, html, pdf)")],
    prune: Annotated[bool, typer.Option(help="remove documents whose files are gone")] = False,
    kind: Annotated[
        KindOption, typer.Option(help="kind when a file has no front matter")
    ] = "guide",
) -> None:
    """Chunk, embed and index documents; unchanged files (same hash) are skipped."""
    from agent.errors import KnowledgeError

    services = _services()
    try:
        with Progress(
            TextColumn("[bold]Ingesting"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[item]}"), TimeElapsedColumn(), console=console,
        ) as bar:  # fmt: skip
            task = bar.add_task("ingest", total=None, item="")

            def on_progress(event: Any) -> None:
                bar.update(task, total=event.total, completed=event.done, item=event.current)

            results = services.knowledge.ingest(paths, progress=on_progress, prune=prune, kind=kind)
    except KnowledgeError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        services.db.close()
    console.print(_results_table(results))
    console.print(_summary(results))
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="the question")],
    k: Annotated[int, typer.Option(min=1, max=50, help="passages to show")] = 5,
    kind: Annotated[KindOption | None, typer.Option(help="only this kind")] = None,
    symbol: Annotated[str | None, typer.Option(help="only about this coin")] = None,
) -> None:
    """Hybrid search, printed as a table of passages."""
    from agent.errors import KnowledgeError

    services = _services()
    try:
        found = services.knowledge.search(query, k=k, kind=kind, symbol=symbol)
    except KnowledgeError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        services.db.close()
    table = Table("score", "title", "section", "passage")
    for hit in found["hits"]:
        table.add_row(f"{hit['score']:.4f}", hit["title"], hit["section"], hit["text"][:200])
    console.print(table)


@app.command("model-cards")
def model_cards() -> None:
    """Re-index the model cards from the registry (done after training too)."""
    services = _services()
    try:
        results = services.knowledge.refresh_model_cards()
    finally:
        services.db.close()
    console.print(_results_table(results))
    console.print(_summary(results))


@app.command("stats")
def stats() -> None:
    """Documents per kind, chunks, and the embedding model in force."""
    services = _services()
    try:
        figures = services.knowledge.stats()
    finally:
        services.db.close()
    table = Table("what", "value")
    for key, value in figures.items():
        table.add_row(key, str(value))
    console.print(table)
