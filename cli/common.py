"""What every `crypto-assistant` command group shares: one console, settings, services, progress.

A settings error is printed and ends the command with status 2, so no command starts half set up.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agent.settings import Settings, SettingsError, load_settings

console = Console()


def cli_settings() -> Settings:
    """The settings from the environment and `.env`, or a clear message and exit status 2."""
    try:
        return load_settings()
    except SettingsError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def cli_services() -> Any:
    """The composition root on those settings (imported here, so `--help` stays light)."""
    from agent.core import Services

    return Services.build(cli_settings())


def progress_bar(field: str = "item") -> Progress:
    """A rich progress bar with a description, a count, `task.fields[field]` and elapsed time."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(f"{{task.fields[{field}]}}"),
        TimeElapsedColumn(),
        console=console,
    )
