"""The conversation graph: understand -> call tools -> compose -> ground-check.

One graph serves every surface. In LLM mode `understand` asks the model, which may call tools
and is asked again with their results; in offline mode the deterministic planner decides the
calls and `compose` writes the answer. Either way `ground_check` redacts secrets, withholds any
sentence repeating the system prompt and removes any figure that no tool of this turn produced.

Tool calls are checked before they run: only registered tools, only the arguments of their
schema (unknown or malformed ones are refused with a readable error the model is sent back), at
most `MAX_TOOL_CALLS` per turn. Retrieved passages reach the model marked as untrusted text.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, RemoveMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import Checkpointer
from pydantic import ValidationError

from agent.graph.prompts import (
    FALLBACK_NOTE,
    RISK_NOTE,
    SYSTEM_PROMPT,
    WITHHELD_NOTE,
    mark_untrusted,
)
from agent.graph.state import AgentState, ToolRun
from agent.graph.tracing import Redactor, settings_secrets
from agent.guards.disclosure import guard_disclosure, repeats_instructions
from agent.guards.grounding import check_grounding, strip_unsupported
from agent.offline.compose import compose_offline
from agent.offline.planner import ConversationContext, Plan, plan_turn
from agent.settings import Settings

UNTRUSTED_LISTS = ("hits", "items")  # result lists whose text fields come from outside sources
UNTRUSTED_FIELDS = ("title", "text")
REPEATS_PROMPT = "repeat the assistant's instructions"


def _readable(exc: BaseException) -> str:
    """A tool failure as a sentence for the user (no stack traces)."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    if isinstance(exc, TimeoutError):
        return "it took too long and was stopped"
    return str(exc) or type(exc).__name__


def _rejection(call: dict[str, Any], tool: BaseTool | None, by_name: dict[str, BaseTool]) -> str:
    """Why a call may not run ("" when it may): unknown tool, arguments outside its schema."""
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


def _for_model(result: Any) -> Any:
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


def _context_from_calls(
    previous: ConversationContext, results: list[ToolRun]
) -> ConversationContext:
    """In LLM mode, remember the coins the tools were used on, for offline follow-ups."""
    symbols = [
        r["result"]["symbol"]
        for r in results
        if r["ok"] and isinstance(r["result"], dict) and "symbol" in r["result"]
    ]
    if not symbols:
        return previous
    return previous.model_copy(
        update={"last_symbols": list(dict.fromkeys(symbols)), "turn": previous.turn + 1}
    )


def build_graph(
    settings: Settings,
    tools: list[BaseTool],
    llm: BaseChatModel | None,
    checkpointer: Checkpointer = None,
) -> Any:
    """Compile the graph with its tools, optional chat model and optional checkpointer."""
    by_name = {tool.name: tool for tool in tools}
    model = llm.bind_tools(tools) if llm is not None else None
    redactor = Redactor(settings_secrets(settings))

    def offline_plan(state: AgentState, notes: list[str]) -> dict[str, Any]:
        context = ConversationContext.model_validate(state.get("context") or {})
        plan = plan_turn(state["question"], context)
        calls = [
            {"id": f"call_{i}", "name": c.name, "args": c.args}
            for i, c in enumerate(plan.tool_calls)
            if c.name in by_name
        ]
        return {
            "mode": "offline",
            "plan": plan.model_dump(mode="json"),
            "pending": calls,
            "notes": notes + plan.notes,
            "context": plan.updated_context(context).model_dump(mode="json"),
        }

    # --- nodes ---------------------------------------------------------------------------------
    async def understand(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """Decide this turn's tool calls (LLM, or the offline planner)."""
        notes = list(state.get("notes") or [])
        if model is None or state.get("mode") == "offline":
            return offline_plan(state, notes)
        rounds = state.get("llm_rounds", 0)
        if rounds >= 4 or state.get("llm_tokens", 0) >= settings.llm_max_tokens:
            return offline_plan(state, [*notes, FALLBACK_NOTE.format(reason="turn budget used up")])
        history = list(state.get("messages", []))[-settings.history_messages :]
        prompt = [SystemMessage(SYSTEM_PROMPT), *history, *state.get("scratch", [])]
        try:
            reply = await model.ainvoke(prompt, config)
        except Exception as exc:  # any provider failure falls back to offline mode
            reason = "timeout" if "timeout" in type(exc).__name__.lower() else type(exc).__name__
            return offline_plan(state, [*notes, FALLBACK_NOTE.format(reason=reason)])
        if not isinstance(reply, AIMessage):
            reason = f"unexpected reply {type(reply).__name__}"
            return offline_plan(state, [*notes, FALLBACK_NOTE.format(reason=reason)])
        used = reply.usage_metadata["total_tokens"] if reply.usage_metadata else 0
        update: dict[str, Any] = {
            "mode": "llm",
            "llm_rounds": rounds + 1,
            "llm_tokens": state.get("llm_tokens", 0) + used,
            "scratch": [*state.get("scratch", []), reply],
        }
        # calls whose arguments are not JSON are refused, not dropped: the model hears why
        invalid = [
            {"id": c.get("id") or f"invalid_{i}", "name": c.get("name") or "?", "args": {},
             "invalid": "its arguments are not a valid JSON object"}
            for i, c in enumerate(reply.invalid_tool_calls)
        ]  # fmt: skip
        if reply.tool_calls or invalid:
            update["pending"] = [
                {"id": c["id"] or f"call_{i}", "name": c["name"], "args": c["args"]}
                for i, c in enumerate(reply.tool_calls)
            ] + invalid
        else:
            update["pending"] = []
            update["answer"] = reply.text if hasattr(reply, "text") else str(reply.content)
        return update

    async def call_tools(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """Run the pending calls in parallel; a failure becomes a readable message."""
        writer = get_stream_writer()
        done = list(state.get("results", []))
        budget = settings.max_tool_calls - len(done)
        pending = state.get("pending", [])
        notes = list(state.get("notes") or [])
        skipped: list[dict[str, Any]] = []
        if len(pending) > budget:
            notes.append(
                f"only {max(budget, 0)} of {len(pending)} tool calls were run (limit per turn)"
            )
            pending, skipped = pending[: max(budget, 0)], pending[max(budget, 0) :]

        async def run(call: dict[str, Any]) -> ToolRun:
            call = redactor.values(call)
            tool = by_name.get(call["name"])
            refused = _rejection(call, tool, by_name)
            if refused.endswith(REPEATS_PROMPT):
                call = call | {"args": {}}  # the model's copy of the prompt is not shown
            writer(
                {"type": "tool_start", "id": call["id"], "name": call["name"], "args": call["args"]}
            )
            started = time.perf_counter()
            try:
                if refused or tool is None:
                    raise PermissionError(refused)
                async with asyncio.timeout(settings.tool_timeout_seconds):
                    result = await tool.ainvoke(call["args"], config)
                args = dict(call["args"])
                if "symbol" in args and isinstance(result, dict) and "symbol" in result:
                    args["symbol"] = result["symbol"]  # report the resolved symbol (btc -> BTC-USD)
                run_: ToolRun = {"id": call["id"], "name": call["name"], "args": args, "ok": True,
                                 "result": result, "error": None, "ms": 0.0}  # fmt: skip
            except Exception as exc:  # tool errors are answers, not crashes
                run_ = {"id": call["id"], "name": call["name"], "args": call["args"], "ok": False,
                        "result": None, "error": _readable(exc), "ms": 0.0}  # fmt: skip
            run_ = redactor.values(run_) | {"ms": round((time.perf_counter() - started) * 1000, 2)}
            writer({"type": "tool_result", **run_})
            return run_

        runs = list(await asyncio.gather(*(run(call) for call in pending)))
        scratch = list(state.get("scratch", []))
        if state.get("mode") == "llm":
            scratch += [
                ToolMessage(
                    content=json.dumps(
                        _for_model(r["result"]) if r["ok"] else {"error": r["error"]}, default=str
                    ),
                    tool_call_id=r["id"],
                    name=r["name"],
                )
                for r in runs
            ]
            limit = (
                f"not run: the limit of {settings.max_tool_calls} tool calls per turn was reached"
            )
            scratch += [  # every call the model made gets an answer, also the ones not run
                ToolMessage(
                    content=json.dumps({"error": limit}), tool_call_id=c["id"], name=c["name"]
                )
                for c in skipped
            ]
        return {"results": done + runs, "pending": [], "scratch": scratch, "notes": notes}

    async def compose(state: AgentState) -> dict[str, Any]:
        """Write the answer: the model's own text in LLM mode, the composer offline."""
        if state.get("mode") == "llm":
            return {"answer": state.get("answer", "")}
        plan = Plan.model_validate(state["plan"])
        return {"answer": compose_offline(plan, state.get("results", []), state.get("notes") or [])}

    async def ground_check(state: AgentState) -> dict[str, Any]:
        """No secret, no system prompt, and every figure from this turn's tools."""
        # a failed tool's message is tool output too (a date range, a limit): its figures count
        results = [
            r["result"] if r["ok"] else {"error": r["error"]} for r in state.get("results", [])
        ]
        answer, disclosure = guard_disclosure(
            state.get("answer", ""), redactor.prose, SYSTEM_PROMPT, [RISK_NOTE], WITHHELD_NOTE
        )
        verdict = check_grounding(answer, results, question=state.get("question", ""))
        if not verdict.grounded:
            answer = strip_unsupported(answer, verdict)
        writer = get_stream_writer()
        for start in range(0, len(answer), 24):
            writer({"type": "token", "text": answer[start : start + 24]})
        history = list(state.get("messages", []))
        overflow = len(history) + 1 - settings.history_messages
        trimmed = [RemoveMessage(id=m.id) for m in history[: max(overflow, 0)] if m.id]
        update: dict[str, Any] = {
            "answer": answer,
            "grounding": verdict.model_dump() | {"disclosure": disclosure.model_dump()},
            "messages": [*trimmed, AIMessage(answer)],
        }
        if state.get("mode") == "llm":
            context = ConversationContext.model_validate(state.get("context") or {})
            update["context"] = _context_from_calls(context, state.get("results", [])).model_dump(
                mode="json"
            )
        return update

    # --- routing ---------------------------------------------------------------------------------
    def after_understand(state: AgentState) -> Literal["call_tools", "compose"]:
        return "call_tools" if state.get("pending") else "compose"

    def after_tools(state: AgentState) -> Literal["understand", "compose"]:
        return "understand" if state.get("mode") == "llm" else "compose"

    # --- wiring ----------------------------------------------------------------------------------
    graph = StateGraph(AgentState)
    graph.add_node("understand", understand)
    graph.add_node("call_tools", call_tools)
    graph.add_node("compose", compose)
    graph.add_node("ground_check", ground_check)
    graph.add_edge(START, "understand")
    graph.add_conditional_edges("understand", after_understand)
    graph.add_conditional_edges("call_tools", after_tools)
    graph.add_edge("compose", "ground_check")
    graph.add_edge("ground_check", END)
    return graph.compile(checkpointer=checkpointer, name="crypto-assistant")
