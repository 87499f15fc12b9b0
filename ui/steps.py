"""A turn's tool calls shown as Chainlit steps: the arguments going in, a one-line result out.

The agent runs a turn's tools in parallel, so `tool_start` and `tool_result` events interleave;
`ToolSteps` keeps the open steps by call id. Each tool's summary line is declared in the tool
table (`agent.toolkit`); a tool without one shows its raw result, shortened.
"""

from __future__ import annotations

import json
from typing import Any

import chainlit as cl
from chainlit.context import local_steps
from chainlit.utils import utc_now

from agent.toolkit import TABLE

SUMMARY_LIMIT = 400


def json_safe(value: Any) -> Any:
    """Arguments as plain JSON (dates become ISO strings) so the step can render them."""
    return json.loads(json.dumps(value, default=str))


def summarize(name: str, ok: bool, result: Any, error: str | None) -> str:
    """One readable line for a finished call: the key figures, or why it failed."""
    if not ok:
        return f"Failed: {error or 'unknown error'}"
    spec = TABLE.get(name)
    describe = spec.summary if spec is not None else None
    if describe is not None and isinstance(result, dict):
        try:
            return describe(result)
        except (KeyError, TypeError, ValueError):
            pass  # an unexpected shape falls back to the raw result below
    text = json.dumps(json_safe(result), ensure_ascii=False)
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1] + "…"


class ToolSteps:
    """The tool steps of one chat turn, opened on `tool_start` and closed on `tool_result`."""

    def __init__(self) -> None:
        current = local_steps.get() or []
        self.parent_id = current[-1].id if current else None  # the on_message run step
        self.open: dict[str, cl.Step] = {}

    async def start(self, data: dict[str, Any]) -> None:
        """Show a running step with the call's arguments."""
        step = cl.Step(name=str(data["name"]), type="tool", parent_id=self.parent_id)
        step.input = json_safe(data.get("args") or {})
        step.start = utc_now()
        self.open[str(data["id"])] = step
        await step.send()

    async def finish(self, data: dict[str, Any]) -> None:
        """Close the call's step with its summary (an error is flagged as such)."""
        step = self.open.pop(str(data["id"]), None)
        if step is None:  # a result without a start event: show it all the same
            await self.start(data)
            step = self.open.pop(str(data["id"]))
        ok = bool(data.get("ok"))
        step.output = summarize(str(data["name"]), ok, data.get("result"), data.get("error"))
        step.is_error = not ok
        step.end = utc_now()
        await step.update()

    async def abandon(self, reason: str) -> None:
        """Close any step still running when the turn failed, saying why."""
        for step in self.open.values():
            step.output = f"Not finished: {reason}"
            step.is_error = True
            step.end = utc_now()
            await step.update()
        self.open.clear()
