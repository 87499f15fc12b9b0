"""`crypto-assistant db ...`: schema upgrade, backup and restore of the whole database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from cli.common import cli_settings as _settings
from cli.common import console
from cli.common import progress_bar as _progress

app = typer.Typer(help="Database schema, backup and restore.", no_args_is_help=True)


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{n / 1024:.0f} kB"


def _step(progress: Progress, task: int) -> Callable[[int, int, str], None]:
    def update(done: int, total: int, item: str) -> None:
        progress.update(task, completed=done, total=total or None, item=item)  # type: ignore[arg-type]

    return update


@app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (also done at start-up)."""
    from agent.core import upgrade_database
    from agent.errors import KnowledgeError

    settings = _settings()
    try:
        applied, version = upgrade_database(settings)
    except KnowledgeError as exc:
        console.print(f"[red]Migration failed:[/red] {exc}")
        raise typer.Exit(1) from None
    if applied:
        console.print(f"Applied {len(applied)} migration(s): {', '.join(applied)}")
    console.print(f"Schema at version {version}.")


@app.command("backup")
def db_backup(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="dump file; default DATA_HOME/backups/crypto-assistant-<UTC time>.dump"
        ),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="replace FILE when it exists")] = False,
) -> None:
    """Dump the whole database to one file (safe while the app runs).

    One consistent snapshot in pg_dump's custom format. Model files (DATA_HOME/models) are
    not in the dump: copy them too.
    """
    from agent.errors import KnowledgeError
    from agent.services.backup import backup_database

    settings = _settings()
    try:
        with _progress() as progress:
            task = progress.add_task("Backing up", total=None, item="")
            result = backup_database(
                settings, file, overwrite=overwrite, on_progress=_step(progress, task)
            )
    except KnowledgeError as exc:
        console.print(f"[red]Backup failed:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(
        f"Backup written to [bold]{result.path}[/bold]: {_size(result.size_bytes)}, "
        f"{result.tables} tables, {result.seconds:.1f}s "
        f"(pg_dump {result.tools.major}, server {result.server_major})."
    )


@app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(help="a dump made by `db backup`")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
) -> None:
    """Replace the database's contents with a backup, all or nothing.

    One transaction: a bad or truncated file changes nothing. Stop the app (API, bot) first
    and start it again afterwards.
    """
    from agent.errors import KnowledgeError
    from agent.services.backup import inspect_backup, restore_database, target_name

    settings = _settings()
    try:
        with console.status(f"Checking {file}..."):
            info = inspect_backup(settings, file)
            target = target_name(settings)
    except KnowledgeError as exc:
        console.print(f"[red]Not restored:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(
        f"{file}: made {info.created} from PostgreSQL {info.server_version}, schema version "
        f"{info.schema_version}, {len(info.tables)} tables."
    )
    if not yes:
        typer.confirm(f"Replace every table of the {target} with this backup?", abort=True)
    try:
        with _progress() as progress:
            task = progress.add_task("Restoring", total=info.data_entries or None, item="")
            result = restore_database(settings, file, on_progress=_step(progress, task))
    except KnowledgeError as exc:
        console.print(f"[red]Not restored:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(
        f"Restored the {target} from {file} in {result.seconds:.1f}s. "
        "Start the app again (its caches and loaded models predate the restore)."
    )
