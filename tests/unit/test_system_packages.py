"""The system packages the suite needs: one list (scripts/system-packages.sh), run first by
`make test` / `make test-integration` and by .ci/run through `make system-deps`.

The script is run for real with fakes for `id`, `dpkg-query`, `apt-get` and `service` (its
SYSDEPS_* seams) and an empty program search path, so no test touches the machine's packages.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "system-packages.sh"
MAKEFILE = ROOT / "Makefile"
CI_RUN = ROOT / ".ci" / "run"


def _packages() -> list[str]:
    match = re.search(r"^PACKAGES=\(([^)]*)\)", SCRIPT.read_text(), re.M)
    assert match, "scripts/system-packages.sh has no PACKAGES=(...) line"
    return match[1].split()


def _prerequisites(target: str) -> list[str]:
    match = re.search(rf"^{re.escape(target)}\s*:(?![=:])([^\n]*)", MAKEFILE.read_text(), re.M)
    assert match, f"no `{target}:` rule in the Makefile"
    return match[1].split()


def _recipe(target: str) -> str:
    match = re.search(
        rf"^{re.escape(target)}\s*:[^\n]*\n((?:\t[^\n]*\n)+)", MAKEFILE.read_text(), re.M
    )
    assert match, f"`{target}` has no recipe"
    return match[1]


def test_the_list_names_what_the_suite_runs() -> None:
    assert _packages() == ["redis-server", "chromium", "nginx", "wrk"]


@pytest.mark.parametrize("target", ["test", "test-integration"])
def test_make_test_installs_the_system_packages_first(target: str) -> None:
    prerequisites = _prerequisites(target)
    assert "system-deps" in prerequisites
    assert prerequisites.index("system-deps") < prerequisites.index("setup")  # fail fast
    assert "scripts/system-packages.sh" in _recipe("system-deps")


def test_ci_run_uses_the_same_step_and_no_list_of_its_own() -> None:
    text = CI_RUN.read_text()
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    assert re.search(r"^make system-deps\b", code, re.M)
    assert code.index("make system-deps") < code.index("make test")
    assert "apt-get" not in code and "dpkg" not in code
    for package in _packages():
        assert package not in code, f".ci/run names {package}: the list is in the script"


@dataclass
class Run:
    code: int
    out: str
    err: str
    apt: list[str]
    service: list[str]


@pytest.fixture
def fakes(tmp_path: Path) -> Path:
    """tmp_path/bin with fake id (uid from FAKE_UID), dpkg-query (installed: FAKE_INSTALLED),
    apt-get and service (both log their arguments)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scripts = {
        "id": 'echo "$FAKE_UID"',
        "dpkg-query": (
            "for pkg in $FAKE_INSTALLED; do\n"
            '  if [ "$pkg" = "${!#}" ]; then printf "install ok installed"; exit 0; fi\n'
            "done\n"
            'echo "dpkg-query: no packages found matching ${!#}" >&2; exit 1'
        ),
        "apt-get": 'echo "$*" >> "$FAKE_LOG/apt"',
        "service": 'echo "$*" >> "$FAKE_LOG/service"',
    }
    for name, body in scripts.items():
        path = bin_dir / name
        path.write_text(f"#!/usr/bin/env bash\n{body}\n")
        path.chmod(0o755)
    (tmp_path / "empty").mkdir()
    return tmp_path


def _run(fakes: Path, *, uid: int, installed: list[str], debian: bool = True, **env: str) -> Run:
    bin_dir = fakes / "bin"
    missing = str(fakes / "no-such-command")
    values = {
        "PATH": os.environ["PATH"],
        "FAKE_UID": str(uid),
        "FAKE_INSTALLED": " ".join(installed),
        "FAKE_LOG": str(fakes),
        "SYSDEPS_ID": str(bin_dir / "id"),
        "SYSDEPS_DPKG_QUERY": str(bin_dir / "dpkg-query") if debian else missing,
        "SYSDEPS_APT_GET": str(bin_dir / "apt-get") if debian else missing,
        "SYSDEPS_SERVICE": str(bin_dir / "service"),
        "SYSDEPS_PATH": str(fakes / "empty"),
        **env,
    }
    bash = shutil.which("bash") or "/bin/bash"
    done = subprocess.run(
        [bash, str(SCRIPT)], env=values, capture_output=True, text=True, timeout=30, check=False
    )

    def log(name: str) -> list[str]:
        path = fakes / name
        return path.read_text().splitlines() if path.exists() else []

    return Run(done.returncode, done.stdout, done.stderr, log("apt"), log("service"))


def test_not_root_with_packages_missing_stops_with_the_command(fakes: Path) -> None:
    run = _run(fakes, uid=1000, installed=["redis-server", "nginx"])
    assert run.code != 0
    assert (
        "  sudo apt-get update -qq && sudo apt-get install -y --no-install-recommends "
        "chromium wrk\n"
    ) in run.err
    assert run.apt == [] and run.service == []


@pytest.mark.parametrize("uid", [0, 1000])
def test_all_present_is_silent_and_calls_no_apt(fakes: Path, uid: int) -> None:
    run = _run(fakes, uid=uid, installed=_packages())
    assert (run.code, run.out, run.err) == (0, "", "")
    assert run.apt == [] and run.service == []


def test_a_program_on_the_search_path_counts_as_present(fakes: Path) -> None:
    for name in _packages():  # e.g. a machine without dpkg, with the programs installed
        program = fakes / "empty" / name
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)
    run = _run(fakes, uid=1000, installed=[], debian=False)
    assert (run.code, run.err) == (0, "")


def test_root_installs_only_the_missing_ones_and_stops_their_services(fakes: Path) -> None:
    run = _run(fakes, uid=0, installed=["chromium", "nginx"])
    assert run.code == 0, run.err
    assert run.apt == [
        "update -qq",
        "install -y -qq --no-install-recommends redis-server wrk",
    ]
    assert run.service == ["redis-server stop"]  # nginx was there before: left alone


def test_not_debian_with_packages_missing_says_so(fakes: Path) -> None:
    run = _run(fakes, uid=0, installed=[], debian=False)
    assert run.code != 0
    assert "not a Debian machine" in run.err
    assert "--no-install-recommends redis-server chromium nginx wrk" in run.err
    assert run.apt == []


def test_skip_only_warns(fakes: Path) -> None:
    run = _run(fakes, uid=1000, installed=[], SYSTEM_PACKAGES="skip")
    assert run.code == 0 and "redis-server chromium nginx wrk" in run.err
    assert run.apt == []
