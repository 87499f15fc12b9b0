"""Every setting is documented in `.env.example` and the README's configuration table."""

from __future__ import annotations

from pathlib import Path

from agent.settings import Settings

ROOT = Path(__file__).resolve().parents[3]


def test_every_setting_is_in_env_example_and_readme() -> None:
    names = {name.upper() for name in Settings.model_fields}
    example = {
        line.split("=", 1)[0].strip()
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    readme = (ROOT / "README.md").read_text()
    assert names - example == set()
    assert example - names == set()
    assert {n for n in names if f"`{n}`" not in readme} == set()
