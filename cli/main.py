"""`crypto-assistant`: the command line, a thin front-end over the agent's services."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.table import Table

from agent.settings import Settings, SettingsError, load_settings
from cli.backtest import backtest
from cli.common import cli_settings as _settings
from cli.common import console
from cli.common import progress_bar as _progress
from cli.db import app as db_app
from cli.jobs import app as jobs_app
from cli.jobs import worker, worker_beside
from cli.knowledge import app as knowledge_app
from cli.models import app as models_app
from cli.sentiment import news_app, sentiment_app

if TYPE_CHECKING:
    from fastapi import FastAPI

Interval = Literal["1d", "1h"]
#: How `serve` starts uvicorn (benchmarks/bench_request_path.py starts its bare app the same
#: way): httptools and uvloop when installed ("auto"), our logging set-up, and no uvicorn access
#: log (the gatekeeper writes one line per request).
UVICORN_OPTIONS: dict[str, Any] = {
    "http": "auto",
    "loop": "auto",
    "log_config": None,
    "access_log": False,
}

app = typer.Typer(help="Crypto analysis assistant.", no_args_is_help=True, add_completion=False)
data_app = typer.Typer(help="Market data.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(data_app, name="data")
app.add_typer(models_app, name="models")
app.add_typer(sentiment_app, name="sentiment")
app.add_typer(news_app, name="news")
app.add_typer(knowledge_app, name="knowledge")
app.add_typer(jobs_app, name="jobs")
app.command("worker")(worker)
app.command("backtest")(backtest)


@data_app.command("import")
def data_import(
    paths: Annotated[list[Path], typer.Argument(help="CSV files or folders of them")],
    force: Annotated[bool, typer.Option(help="re-import files seen before")] = False,
) -> None:
    """Load OHLCV CSV files; each file is all-or-nothing, bad rows are reported by line."""
    from agent.core import Services
    from agent.errors import DataValidationError, KnowledgeError

    settings = _settings()
    services = Services.build(settings)
    failed = 0
    written: set[tuple[str, str]] = set()
    try:
        files = services.market.csv_files(paths)
        table = Table("file", "symbol", "interval", "rows", "new/changed", "status")
        with _progress() as progress:
            task = progress.add_task("Importing", total=len(files), item="")
            for path in files:
                progress.update(task, item=path.name)
                try:
                    (res,) = services.market.import_paths([path], force=force)
                    if res.written:
                        written.add((res.symbol, res.interval))
                    status = "unchanged (seen before)" if res.skipped else "ok"
                    table.add_row(
                        path.name, res.symbol, res.interval, str(res.rows), str(res.written), status
                    )
                except DataValidationError as exc:
                    failed += 1
                    table.add_row(path.name, "", "", "0", "0", "[red]rejected[/red]")
                    console.print(f"[red]{path.name} rejected, nothing written:[/red]")
                    for line, message in exc.problems[:20]:
                        console.print(f"  line {line}: {message}")
                    if len(exc.problems) > 20:
                        console.print(f"  ... and {len(exc.problems) - 20} more")
                except KnowledgeError as exc:
                    failed += 1
                    table.add_row(path.name, "", "", "0", "0", f"[red]{exc}[/red]")
                progress.advance(task)
        console.print(table)
    except KnowledgeError as exc:
        console.print(f"[red]{exc}[/red]")
        failed += 1
    finally:
        _invalidate(services, written)
        services.db.close()
    if failed:
        raise typer.Exit(1)


def _invalidate(services: Any, series: set[tuple[str, str]]) -> None:
    """Bump the cache generation of each series written, then close the cache.

    Servers sharing the Redis cache then serve the new bars at once; a server's in-process
    cache (no REDIS_URL) can only let them expire after CACHE_TTL_SECONDS.
    """
    import anyio

    async def bump() -> None:
        for symbol, interval in sorted(series):
            await services.market.invalidate(symbol, interval)
        await services.cache.close()

    anyio.run(bump)


@data_app.command("refresh")
def data_refresh(
    symbols: Annotated[
        list[str] | None, typer.Argument(help="symbols; default all supported")
    ] = None,
    interval: Annotated[Interval, typer.Option(help="1d or 1h")] = "1d",
) -> None:
    """Fetch new bars from the provider, incrementally since the last stored bar."""
    from agent.core import Services
    from agent.errors import KnowledgeError, ServiceError

    services = Services.build(_settings())
    refreshed: set[tuple[str, str]] = set()
    try:
        wanted = services.market.symbols(symbols)
        table = Table("symbol", "interval", "fetched", "new/changed", "status")
        failures = 0
        with _progress() as progress:
            task = progress.add_task("Refreshing", total=len(wanted), item="")
            for symbol in wanted:
                progress.update(task, item=symbol)
                (res,) = services.market.refresh([symbol], interval)
                refreshed.add((symbol, interval))  # new bars or a changed freshness flag
                failures += not res.ok
                status = "ok" if res.ok else f"[yellow]stale: {res.message}[/yellow]"
                table.add_row(symbol, interval, str(res.fetched), str(res.written), status)
                progress.advance(task)
        console.print(table)
    except (KnowledgeError, ServiceError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        _invalidate(services, refreshed)
        services.db.close()
    if failures:
        console.print(
            f"{failures} symbol(s) could not be refreshed; stored data is served, marked stale."
        )
        raise typer.Exit(1)


@app.command("chat")
def chat(
    thread: Annotated[str | None, typer.Option(help="thread id to continue")] = None,
) -> None:
    """A terminal conversation with the same agent (type 'exit' to leave)."""
    import asyncio
    import uuid

    from rich.markdown import Markdown

    from agent.core import Services
    from agent.errors import InvalidRequestError

    settings = _settings()
    thread_id = thread or f"cli-{uuid.uuid4().hex[:12]}"

    async def conversation() -> None:
        services = Services.build(settings)
        service = await services.start_chat()
        mode = "with " + settings.llm_model if settings.llm_model else "offline, no language model"
        console.print(f"[bold]Crypto assistant[/bold] ({mode}); thread {thread_id}. 'exit' leaves.")
        try:
            while True:
                text = await asyncio.to_thread(console.input, "[bold cyan]you>[/bold cyan] ")
                if text.strip().lower() in {"exit", "quit", ":q"}:
                    break
                if not text.strip():
                    continue
                try:
                    with console.status("thinking...") as status:
                        async for event in service.astream(thread_id, text, surface="cli"):
                            if event.type == "tool_start":
                                status.update(f"running {event.data['name']}...")
                            elif event.type == "tool_result":
                                ok = (
                                    "[green]ok[/green]" if event.data["ok"] else "[red]failed[/red]"
                                )
                                console.print(
                                    f"  [dim]{event.data['name']} {ok} ({event.data['ms']:.0f} ms)[/dim]"
                                )
                            elif event.type == "final":
                                console.print(Markdown(event.data["answer"]))
                except InvalidRequestError as exc:
                    console.print(f"[yellow]{exc}[/yellow]")
        finally:
            await services.aclose()

    try:
        asyncio.run(conversation())
    except (EOFError, KeyboardInterrupt):
        console.print()


@app.command("bot")
def bot() -> None:
    """Run the Telegram bot (polling); needs TELEGRAM_BOT_TOKEN."""
    from api.logging_setup import configure_logging_for
    from bots.telegram_bot import BotStartError, main

    settings = _settings()
    configure_logging_for(settings)
    try:
        main(settings)
    except BotStartError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
    workers: Annotated[
        int,
        typer.Option(min=1, max=64, help="worker processes (set REDIS_URL so they share state)"),
    ] = 1,
) -> None:
    """Serve the API with the web chat at /ui (one process, or several uvicorn workers), and a
    job worker process beside it unless START_WORKER=false."""
    import uvicorn

    from api.logging_setup import configure_logging_for

    settings = _settings()
    configure_logging_for(settings)
    bind_host, bind_port = host or settings.host, port or settings.port
    shown = "127.0.0.1" if bind_host in ("0.0.0.0", "::") else bind_host  # noqa: S104
    console.print(
        f"Serving on [bold]http://{shown}:{bind_port}[/bold]  "
        "(chat UI: /ui, API docs: /docs, health: /health)"
        + (f", {workers} workers" if workers > 1 else "")
    )
    options = {
        "host": bind_host,
        "port": bind_port,
        "log_level": settings.log_level.lower(),
        **UVICORN_OPTIONS,
    }
    if workers == 1:
        from api.main import create_app

        with worker_beside(settings):
            uvicorn.run(create_app(settings), **options)
        return
    _prepare_workers(settings)
    with worker_beside(settings):
        uvicorn.run("cli.main:worker_app", factory=True, workers=workers, **options)


def _prepare_workers(settings: Settings) -> None:
    """Before spawning workers: one embedded Postgres for all, one Telegram poller at most.

    Workers are fresh processes that read the environment, so what they must share is put
    there: the embedded server's URL (started once, here), and polling switched off because
    Telegram allows a single poller per token.
    """
    import os

    from agent.core import database_url

    if settings.redis_url is None:
        console.print(
            "[yellow]REDIS_URL is unset: each worker keeps its own cache and rate-limit "
            "counters, so a client may get the limit once per worker.[/yellow]"
        )
    if settings.database_url is None:
        os.environ["DATABASE_URL"] = database_url(settings)
    polling = settings.telegram_bot_token is not None and not settings.telegram_webhook_url
    if polling and settings.telegram_poll_in_api:
        os.environ["TELEGRAM_POLL_IN_API"] = "false"
        console.print(
            "[yellow]Several workers: the Telegram bot is not polled here; run "
            "`crypto-assistant bot` beside them or set TELEGRAM_WEBHOOK_URL.[/yellow]"
        )


def worker_app() -> FastAPI:
    """App factory of one uvicorn worker (`serve --workers N`): settings and logs from the env."""
    from api.logging_setup import configure_logging_for
    from api.main import create_app

    settings = load_settings()
    configure_logging_for(settings)
    return create_app(settings)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except SettingsError as exc:
        console.print(f"[red]{exc}[/red]")
        sys.exit(2)


if __name__ == "__main__":
    main()
