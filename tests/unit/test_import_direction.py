"""DESIGN.md's layering: front-ends -> agent -> tools -> knowledge, never upwards or across;
the command line above the front-ends it starts; the web chat and the bot reach the database only
through the agent."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = {"knowledge": 0, "tools": 1, "agent": 2, "api": 3, "ui": 3, "bots": 3, "cli": 4}
PACKAGES = list(LAYER)
# the API mounts the web chat and the bot's webhook; the CLI serves the API and starts the bot;
# every front-end reaches the engines and the store only through the agent
ALLOWED = {
    "knowledge": set(),
    "tools": {"knowledge"},
    "agent": {"tools", "knowledge"},
    "api": {"agent", "ui", "bots"},
    "ui": {"agent"},
    "bots": {"agent"},
    "cli": {"agent", "api", "bots"},
}
# database drivers only below the agent: a front-end that needs the store asks a service
DRIVERS = {"psycopg", "psycopg_pool"}


def _modules(path: Path) -> set[str]:
    """Every top-level module `path` imports (absolute imports)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _imports(path: Path) -> set[str]:
    return _modules(path) & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_down_only(package: str) -> None:
    files = list((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no modules"
    offending = {
        str(path.relative_to(ROOT)): sorted(_imports(path) - ALLOWED[package] - {package})
        for path in files
    }
    assert {k: v for k, v in offending.items() if v} == {}


@pytest.mark.parametrize("package", ["ui", "bots", "api", "cli"])
def test_front_ends_use_no_database_driver(package: str) -> None:
    offending = {
        str(path.relative_to(ROOT)): sorted(_modules(path) & DRIVERS)
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offending.items() if v} == {}


def test_the_check_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "m.py"
    bad.write_text("from agent.core import Services\nimport tools.indicators\n")
    assert _imports(bad) - ALLOWED["knowledge"] == {"agent", "tools"}
