#!/usr/bin/env python3
"""Container health checks with the standard library only (the images carry no curl).

    healthcheck http URL          healthy when GET URL answers 2xx within the timeout
    healthcheck process WORD...   healthy when a process's command line holds every WORD

The API image runs `healthcheck http http://127.0.0.1:8000/health` (`/health` answers 503 when
Postgres is down); the bot image runs `healthcheck process crypto-assistant bot`.
Exit status 0 = healthy, 1 = unhealthy (what Docker's HEALTHCHECK expects).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = float(os.environ.get("HEALTHCHECK_TIMEOUT", "4"))


def check_http(url: str) -> int:
    if not url.startswith(("http://127.0.0.1", "http://localhost")):
        print(f"refusing to probe {url}: only the container's own loopback", file=sys.stderr)
        return 1
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        print(f"{url}: HTTP {exc.code}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1
    return 0 if 200 <= status < 300 else 1


def check_process(words: list[str]) -> int:
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                argv = handle.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        line = " ".join(argv)
        if all(word in line for word in words) and "healthcheck" not in line:
            return 0
    print(f"no process with {' '.join(words)!r} in its command line", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "http":
        return check_http(argv[1])
    if len(argv) >= 2 and argv[0] == "process":
        return check_process(argv[1:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
