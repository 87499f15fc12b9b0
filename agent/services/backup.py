"""Backup and restore of the configured database (the embedded server's or DATABASE_URL's).

A thin layer over `knowledge.backup` that resolves the database from `Settings`, so front-ends
never handle connection strings or pick client tools themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agent.settings import Settings
from knowledge.backup import (
    ArchiveInfo,
    BackupResult,
    Progress,
    RestoreResult,
    backup,
    inspect_archive,
    restore,
    server_major,
)
from knowledge.pgtools import BackupError, describe, find_tools

__all__ = [
    "ArchiveInfo",
    "BackupError",
    "BackupResult",
    "RestoreResult",
    "backup_database",
    "default_backup_path",
    "inspect_backup",
    "restore_database",
    "target_name",
]


def _dsn(settings: Settings) -> tuple[str, bool]:
    """The database URL (starting the embedded server when unset) and whether it is embedded."""
    from agent.core import database_url

    return database_url(settings), settings.database_url is None


def default_backup_path(settings: Settings) -> Path:
    """`DATA_HOME/backups/crypto-assistant-<UTC time>.dump`."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return settings.data_home / "backups" / f"crypto-assistant-{stamp}.dump"


def target_name(settings: Settings) -> str:
    """The configured database, named without credentials."""
    return describe(_dsn(settings)[0])


def backup_database(
    settings: Settings,
    path: Path | None = None,
    *,
    overwrite: bool = False,
    on_progress: Progress | None = None,
) -> BackupResult:
    """Dump the configured database to `path` (default under DATA_HOME/backups)."""
    dsn, embedded = _dsn(settings)
    return backup(
        dsn,
        path or default_backup_path(settings),
        embedded=embedded,
        overwrite=overwrite,
        on_progress=on_progress,
        timeout=settings.db_timeout_seconds,
    )


def inspect_backup(settings: Settings, path: Path) -> ArchiveInfo:
    """Check a dump file (readable end to end, made by this app) and say what it holds."""
    dsn, embedded = _dsn(settings)
    tools = find_tools(server_major(dsn, settings.db_timeout_seconds), embedded=embedded)
    return inspect_archive(path, tools)


def restore_database(
    settings: Settings, path: Path, *, on_progress: Progress | None = None
) -> RestoreResult:
    """Replace the configured database's contents with the dump's, all or nothing."""
    dsn, embedded = _dsn(settings)
    return restore(
        dsn, path, embedded=embedded, on_progress=on_progress, timeout=settings.db_timeout_seconds
    )
