"""A `crypto-assistant serve` process for the benchmarks: start, stop, memory, wrk runs.

Shared by `bench_memory.py` and `bench_load.py`. The server runs through a small boot script
whose SIGUSR1 handler writes the heavy modules imported so far, so "the API starts without
TensorFlow or torch" is measured, not assumed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from common import ROOT, free_port, parse_wrk

HEAVY = (
    "tensorflow",
    "keras",
    "torch",
    "transformers",
    "sentence_transformers",
    "sklearn",
    "talib",
)
#: Rate limits out of the way: a throughput benchmark must not measure 429s.
UNLIMITED = {"RATE_LIMIT_DATA_PER_MINUTE": "100000", "RATE_LIMIT_CHAT_PER_MINUTE": "100000"}
PYTHON = str(ROOT / ".venv/bin/python")
CLI = str(ROOT / ".venv/bin/crypto-assistant")

# `crypto-assistant serve`, with a SIGUSR1 handler that writes the heavy modules imported so far.
BOOT = f"""
import json, os, signal, sys

def _dump(signum, frame):
    names = {HEAVY!r}
    with open(os.environ["BENCH_MODULES_FILE"], "w") as handle:
        json.dump(sorted(n for n in names if n in sys.modules), handle)

signal.signal(signal.SIGUSR1, _dump)
from cli.main import main
sys.argv = ["crypto-assistant", *sys.argv[1:]]
main()
"""

# wrk: one request after another from a fixed list, counting answers by status code.
STATUS_LUA = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
statuses = {}
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do io.write(string.format("STATUS %d %d\\n", code, n)) end
  end
end
"""


def proc_memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of `pid` in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return {"rss": fields["VmRSS"], "peak": fields["VmHWM"]}


def reset_peak(pid: int) -> None:
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs), so each phase has its own peak."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def loaded_libraries(pid: int) -> list[str]:
    """Native libraries of TensorFlow, torch and TA-Lib mapped into the process (a cross-check)."""
    marks = {
        "libtensorflow": "tensorflow (.so)",
        "libtorch": "torch (.so)",
        "_ta_lib": "talib (.so)",
    }
    maps = Path(f"/proc/{pid}/maps").read_text()
    return sorted(label for mark, label in marks.items() if mark in maps)


def wrk_run(base: str, script: str, seconds: int, connections: int, folder: Path) -> dict[str, Any]:
    """wrk -t1 with a Lua script that counts statuses; req/s, latency percentiles, status counts."""
    path = folder / f"wrk-{time.monotonic_ns()}.lua"
    path.write_text(script)
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(path), base]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


class ApiProcess:
    """`crypto-assistant serve` in its own process, with its pid, base URL and module probe."""

    def __init__(self, env: dict[str, str], folder: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.modules_file = folder / f"modules-{self.port}.json"
        self.log = (folder / f"server-{self.port}.log").open("w")
        self.process = subprocess.Popen(
            [PYTHON, "-c", BOOT, "serve", "--port", str(self.port), "--workers", str(workers)],
            cwd=folder,
            env={**os.environ, **env, "BENCH_MODULES_FILE": str(self.modules_file)},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, path: str = "/health", timeout: float = 180) -> float:
        """Seconds until `path` answers 200."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: see {self.log.name}")
            try:
                if httpx.get(self.base + path, timeout=5).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError("the server did not become ready")

    def settle(self, quiet_mb: float = 2.0, quiet_seconds: float = 4.0, limit: float = 120) -> None:
        """Wait until RSS stops moving (background start-up work done)."""
        started = time.monotonic()
        last, since = proc_memory(self.pid)["rss"], time.monotonic()
        while time.monotonic() - started < limit:
            time.sleep(0.5)
            now = proc_memory(self.pid)["rss"]
            if abs(now - last) > quiet_mb:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet_seconds:
                return

    def modules(self) -> list[str]:
        """Heavy modules imported by the server process so far."""
        self.modules_file.unlink(missing_ok=True)
        os.kill(self.pid, signal.SIGUSR1)
        for _ in range(100):
            if self.modules_file.exists() and self.modules_file.read_text().endswith("]"):
                return list(json.loads(self.modules_file.read_text()))
            time.sleep(0.05)
        raise RuntimeError("the server did not answer the module probe")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()


@contextmanager
def api_process(
    env: dict[str, str],
    folder: Path,
    workers: int = 1,
    ready_path: str = "/health",
    timeout: float = 180,
) -> Iterator[ApiProcess]:
    """Start the API, wait until `ready_path` answers 200, always stop it."""
    server = ApiProcess(env, folder, workers)
    try:
        server.wait_ready(ready_path, timeout)
        yield server
    finally:
        server.stop()


@contextmanager
def served_app(env: dict[str, str], ready_path: str, timeout: float = 90) -> Iterator[str]:
    """The API in a scratch folder, logging warnings only; its base URL once `ready_path` is 200."""
    env = {"LOG_LEVEL": "WARNING", **UNLIMITED, **env}
    with (
        tempfile.TemporaryDirectory(prefix="bench-serve-") as folder,
        api_process(env, Path(folder), ready_path=ready_path, timeout=timeout) as server,
    ):
        yield server.base


def run_cli(env: dict[str, str], folder: Path, *args: str) -> float:
    """Run a `crypto-assistant` command to completion; its wall time in seconds."""
    started = time.monotonic()
    result = subprocess.run(
        [CLI, *args], cwd=folder, env={**os.environ, **env}, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"crypto-assistant {' '.join(args)} failed:\n{result.stdout[-3000:]}")
    return time.monotonic() - started


def index_corpus(env: dict[str, str], folder: Path) -> float:
    """Index the shipped corpus as start-up does, so later start-ups find it unchanged."""
    code = (
        "from agent.core import Services\nfrom agent.settings import load_settings\n"
        "services = Services.build(load_settings())\nservices.knowledge.ensure_corpus()\n"
        "services.db.close()\n"
    )
    started = time.monotonic()
    subprocess.run(
        [PYTHON, "-c", code], cwd=folder, env={**os.environ, **env}, check=True, capture_output=True
    )
    return time.monotonic() - started


class Sampler:
    """Polls RSS in a thread (the peak under load, beside VmHWM)."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        self.pid, self.every, self.max_rss = pid, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.max_rss = max(self.max_rss, proc_memory(self.pid)["rss"])
            time.sleep(self.every)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
