"""Tool calls checked before they run and their results shown to the model as data.

Only registered tools, only the arguments of their schema: an unknown tool, an unknown argument
or arguments repeating the system prompt are refused with a readable reason (the model is sent
it back). Retrieved text inside a result reaches the model between untrusted markers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from pydantic import ValidationError

from agent.graph.prompts import RISK_NOTE, SYSTEM_PROMPT, mark_untrusted
from agent.graph.state import ToolRun
from agent.guards.disclosure import repeats_instructions

if TYPE_CHECKING:  # the context imports the schema routing, which reads `readable` from here
    from agent.graph.context import TurnContext

UNTRUSTED_LISTS = ("hits", "items")  # result lists whose text fields come from outside sources
UNTRUSTED_FIELDS = ("title", "text")
REPEATS_PROMPT = "repeat the assistant's instructions"


def readable(exc: BaseException) -> str:
    """A tool failure as a sentence for the user (no stack traces)."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    if isinstance(exc, TimeoutError):
        return "it took too long and was stopped"
    return str(exc) or type(exc).__name__


def rejection(call: dict[str, Any], by_name: Mapping[str, BaseTool]) -> str:
    """Why a call may not run ("" when it may): unknown tool, arguments outside its schema."""
    tool = by_name.get(call["name"])
    if call.get("invalid"):
        return f"the call to {call['name']!r} was refused: {call['invalid']}"
    if tool is None:
        return f"there is no tool named {call['name'][:64]!r} (available: {', '.join(sorted(by_name))})"
    if not isinstance(call["args"], dict):
        return f"the arguments of {call['name']} must be an object"
    unknown = sorted(set(call["args"]) - set(tool.args))
    if unknown:
        return f"{call['name']} has no argument {', '.join(map(repr, unknown))}; it takes {', '.join(tool.args)}"
    texts = [v for v in call["args"].values() if isinstance(v, str)]
    if any(repeats_instructions(text, SYSTEM_PROMPT, [RISK_NOTE]) for text in texts):
        return f"the arguments of {call['name']} {REPEATS_PROMPT}"
    return ""


def for_model(result: Any) -> Any:
    """A tool result as the model sees it: retrieved text fields between untrusted markers."""
    if not isinstance(result, dict):
        return result
    marked = dict(result)
    for key in UNTRUSTED_LISTS:
        if isinstance(marked.get(key), list):
            marked[key] = [
                {k: mark_untrusted(v) if k in UNTRUSTED_FIELDS and isinstance(v, str) else v
                 for k, v in item.items()} if isinstance(item, dict) else item
                for item in marked[key]
            ]  # fmt: skip
    return marked


async def run_call(
    call: dict[str, Any], ctx: TurnContext, config: RunnableConfig, writer: Any
) -> ToolRun:
    """Run one checked call with the tool timeout; any failure becomes a readable error."""
    call = ctx.redactor.values(call)
    tool = ctx.tools.get(call["name"])
    refused = rejection(call, ctx.tools)
    if refused.endswith(REPEATS_PROMPT):
        call = call | {"args": {}}  # the model's copy of the prompt is not shown
    writer({"type": "tool_start", "id": call["id"], "name": call["name"], "args": call["args"]})
    started = time.perf_counter()
    try:
        if refused or tool is None:
            raise PermissionError(refused)
        async with asyncio.timeout(ctx.settings.tool_timeout_seconds):
            result = await tool.ainvoke(call["args"], config)
        args = dict(call["args"])
        if "symbol" in args and isinstance(result, dict) and "symbol" in result:
            args["symbol"] = result["symbol"]  # report the resolved symbol (btc -> BTC-USD)
        run: ToolRun = {"id": call["id"], "name": call["name"], "args": args, "ok": True,
                        "result": result, "error": None, "ms": 0.0}  # fmt: skip
    except Exception as exc:  # tool errors are answers, not crashes
        run = {"id": call["id"], "name": call["name"], "args": call["args"], "ok": False,
               "result": None, "error": readable(exc), "ms": 0.0}  # fmt: skip
    run = ctx.redactor.values(run) | {"ms": round((time.perf_counter() - started) * 1000, 2)}
    writer({"type": "tool_result", **run})
    return run
