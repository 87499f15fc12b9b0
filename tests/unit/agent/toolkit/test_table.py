"""The tool table: each tool declared once, and every surface reading it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import BaseModel

from agent.offline.planner import ConversationContext, plan_turn
from agent.toolkit import TABLE, TOOLS

ROOT = Path(__file__).resolve().parents[4]
TABLE_FILE = ROOT / "agent" / "toolkit" / "table.py"
PRODUCTION = ("agent", "api", "bots", "ui", "knowledge", "tools")


def test_each_tool_is_declared_once_with_what_every_surface_needs() -> None:
    names = [spec.name for spec in TOOLS]
    assert len(names) == len(set(names)) == len(TABLE)
    for spec in TOOLS:
        assert spec.description.endswith(".") and len(spec.description) > 40
        assert issubclass(spec.args, BaseModel) and spec.args.model_fields
        assert callable(spec.run) and callable(spec.write)


def test_no_tool_name_is_spelled_outside_the_table() -> None:
    """A string constant equal to a tool's name anywhere in production code but the table
    means a second declaration that can drift from it."""
    names = set(TABLE)
    found: dict[str, list[str]] = {}
    for package in PRODUCTION:
        for path in (ROOT / package).rglob("*.py"):
            if path == TABLE_FILE:
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Constant) and node.value in names:
                    found.setdefault(str(path.relative_to(ROOT)), []).append(node.value)
    assert found == {}


def test_the_check_sees_a_literal(tmp_path: Path) -> None:
    bad = tmp_path / "m.py"
    bad.write_text('NAME = "get_price"\n')
    constants = [
        n.value for n in ast.walk(ast.parse(bad.read_text())) if isinstance(n, ast.Constant)
    ]
    assert "get_price" in constants and "get_price" in TABLE


@pytest.mark.parametrize(
    "question",
    ["what's BTC at?", "technical view on SOL", "should I buy ETH?", "forecast BTC for a week",
     "how accurate were your BTC forecasts?", "news sentiment on solana", "what is RSI?"],
)  # fmt: skip
def test_every_planned_call_names_a_tool_of_the_table_with_its_arguments(question: str) -> None:
    plan = plan_turn(question, ConversationContext())
    assert plan.tool_calls, question
    for call in plan.tool_calls:
        spec = TABLE[call.name]
        spec.args.model_validate(call.args)  # the planner's arguments fit the tool's schema
