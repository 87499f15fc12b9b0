"""Backup and restore of the whole database with PostgreSQL's own pg_dump and pg_restore.

A backup is one custom-format dump taken from a single snapshot, so it is consistent while the
app keeps writing. A restore is checked first (the whole file is decoded, it must come from this
app at a schema this code knows), then applied by `pg_restore --single-transaction`: a bad or
truncated dump rolls back and leaves the database exactly as it was. Passwords travel in
`PGPASSWORD`, never on a command line or in a log line (see `knowledge.pgtools`).
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from knowledge.migrations import discover
from knowledge.pgtools import BackupError, PgTools, connection_args, describe, find_tools, run_tool

log = logging.getLogger(__name__)

MIGRATIONS_TABLE = "public.schema_migrations"
LOCK_TIMEOUT = "30s"  # a restore waits this long for a table the running app holds, then fails
Progress = Callable[[int, int, str], None]  # (done, total, table just reached)

_DUMPING = re.compile(r'dumping contents of table "?([^"]+)"?')
_RESTORING = re.compile(r'processing data for table "?([^"]+)"?')
_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ (TABLE DATA|TABLE) (\S+) (\S+) ")
_CREATED = re.compile(r"^; Archive created at (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class BackupResult:
    """A dump written: where, how big, how long, and the pg_dump used."""

    path: Path
    size_bytes: int
    seconds: float
    tables: int
    server_major: int
    tools: PgTools


@dataclass(frozen=True)
class ArchiveInfo:
    """What `pg_restore --list` says about a dump, plus its schema version."""

    path: Path
    created: str
    server_version: str
    tables: frozenset[str]
    data_entries: int
    schema_version: int


@dataclass(frozen=True)
class RestoreResult:
    """A dump restored: what it held, how long it took, and the pg_restore used."""

    archive: ArchiveInfo
    seconds: float
    tools: PgTools


def _server(dsn: str, timeout: float) -> tuple[int, set[str], int]:
    """Server major version, the user tables (schema.name), and the applied schema version."""
    try:
        with psycopg.connect(dsn, connect_timeout=max(1, int(timeout)), autocommit=True) as conn:
            num = conn.execute("SHOW server_version_num").fetchone()
            tables = {
                f"{schema}.{name}"
                for schema, name in conn.execute(
                    "SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_type = 'BASE TABLE' "
                    "AND table_schema NOT IN ('pg_catalog', 'information_schema')"
                )
            }
            version = 0
            if MIGRATIONS_TABLE in tables:
                row = conn.execute(f"SELECT coalesce(max(version), 0) FROM {MIGRATIONS_TABLE}")
                version = int(row.fetchone()[0])  # type: ignore[index]
    except psycopg.Error as exc:
        raise BackupError(f"cannot reach the {describe(dsn)}: {exc}") from exc
    return int(num[0]) // 10_000, tables, version  # type: ignore[index]


def server_major(dsn: str, timeout: float = 10.0) -> int:
    """The server's major version (pg_dump must be at least as new)."""
    return _server(dsn, timeout)[0]


def backup(
    dsn: str,
    target: Path,
    *,
    embedded: bool,
    overwrite: bool = False,
    on_progress: Progress | None = None,
    timeout: float = 10.0,
) -> BackupResult:
    """Dump the database to `target` (custom format); a failed dump leaves no file behind."""
    if target.exists() and not overwrite:
        raise BackupError(f"{target} already exists (choose another file or overwrite it)")
    started = time.monotonic()
    major, tables, _ = _server(dsn, timeout)
    tools = find_tools(major, embedded=embedded)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    dbname, env = connection_args(dsn)
    done = 0

    def seen(line: str) -> None:
        nonlocal done
        if on_progress is not None and (match := _DUMPING.search(line)):
            done += 1
            on_progress(min(done, len(tables)), len(tables), match.group(1))

    cmd = [tools.path("pg_dump"), "--format=custom", "--verbose", f"--lock-wait-timeout={LOCK_TIMEOUT}",
           f"--file={partial}", dbname]  # fmt: skip
    try:
        code, errors = run_tool(cmd, env, seen)
        if code != 0:
            raise BackupError(f"pg_dump failed ({describe(dsn)}): {errors or f'exit code {code}'}")
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    size = target.stat().st_size
    log.info("backup of the %s written to %s (%d bytes)", describe(dsn), target, size)
    return BackupResult(target, size, time.monotonic() - started, len(tables), major, tools)


def inspect_archive(path: Path, tools: PgTools) -> ArchiveInfo:
    """Read the dump's table of contents and decode every block; refuse anything unusable."""
    if not path.is_file():
        raise BackupError(f"{path} not found")
    env = dict(os.environ)
    listing = subprocess.run(  # noqa: S603
        [tools.path("pg_restore"), "--list", str(path)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if listing.returncode != 0:
        raise BackupError(f"{path} is not a readable backup: {listing.stderr.strip()[-500:]}")
    code, errors = run_tool([tools.path("pg_restore"), f"--file={os.devnull}", str(path)], env)
    if code != 0:
        raise BackupError(f"{path} is damaged or truncated: {errors or f'exit code {code}'}")
    header = {
        key.strip(): value.strip()
        for key, _, value in (
            line[1:].partition(": ") for line in listing.stdout.splitlines() if line.startswith(";")
        )
    }
    created = _CREATED.search(listing.stdout)
    tables: set[str] = set()
    data = 0
    for line in listing.stdout.splitlines():
        if match := _TOC_TABLE.match(line):
            tables.add(f"{match.group(2)}.{match.group(3)}")
            data += match.group(1) == "TABLE DATA"
    if MIGRATIONS_TABLE not in tables:
        raise BackupError(f"{path} is not a crypto-assistant backup (no schema_migrations table)")
    versions = subprocess.run(  # noqa: S603
        [tools.path("pg_restore"), "--data-only", "--table=schema_migrations", "--file=-", str(path)],
        capture_output=True, text=True, env=env, check=False,
    ).stdout  # fmt: skip
    copy = versions.split("COPY public.schema_migrations", 1)[-1].split("\n\\.", 1)[0]
    numbers = [int(row.split("\t", 1)[0]) for row in copy.splitlines()[1:] if row[:1].isdigit()]
    return ArchiveInfo(
        path,
        created=created.group(1).strip() if created else "?",
        server_version=header.get("Dumped from database version", "?"),
        tables=frozenset(tables),
        data_entries=data,
        schema_version=max(numbers, default=0),
    )


def restore(
    dsn: str,
    source: Path,
    *,
    embedded: bool,
    on_progress: Progress | None = None,
    timeout: float = 10.0,
    verify: bool = True,
) -> RestoreResult:
    """Replace the database's contents with the dump's, in one transaction (all or nothing).

    `verify=False` skips the checks of the file (tests use it to prove the transaction alone
    protects the data from a damaged dump).
    """
    started = time.monotonic()
    major, live_tables, live_version = _server(dsn, timeout)
    tools = find_tools(major, embedded=embedded)
    if verify:
        info = inspect_archive(source, tools)
        known = max((m.version for m in discover()), default=0)
        if info.schema_version > known:
            raise BackupError(
                f"{source} is at schema version {info.schema_version}, newer than this "
                f"version of the app knows ({known}): upgrade the app first"
            )
        extra = sorted(live_tables - info.tables)
        if extra:
            raise BackupError(
                f"the {describe(dsn)} has tables the backup lacks ({', '.join(extra)}; schema "
                f"version {live_version} here, {info.schema_version} in the backup): restore into "
                "an empty database, or drop them first"
            )
    else:
        info = ArchiveInfo(source, "?", "?", frozenset(), 0, 0)
    dbname, env = connection_args(dsn)
    env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} -c lock_timeout={LOCK_TIMEOUT}".strip()
    done = 0

    def seen(line: str) -> None:
        nonlocal done
        if on_progress is not None and (match := _RESTORING.search(line)):
            done += 1
            total = info.data_entries
            on_progress(min(done, total) if total else done, total, match.group(1))

    cmd = [tools.path("pg_restore"), "--single-transaction", "--exit-on-error", "--clean",
           "--if-exists", "--no-owner", "--no-privileges", "--verbose", dbname, str(source)]  # fmt: skip
    code, errors = run_tool(cmd, env, seen)
    if code != 0:
        raise BackupError(
            f"restore failed and was rolled back, the {describe(dsn)} is unchanged: "
            f"{errors or f'exit code {code}'}"
        )
    log.info("restored the %s from %s", describe(dsn), source)
    return RestoreResult(info, time.monotonic() - started, tools)
