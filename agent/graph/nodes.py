"""The graph's nodes: understand -> call tools -> compose -> ground-check.

Each node is a plain function of the state and LangGraph's runtime (its context is a
`TurnContext`: settings, tools, the chat model, the redactor), so each is tested alone with a
fake chat model. In LLM mode `understand` asks the model, which may call tools and is asked again
with their results; in offline mode the deterministic planner decides the calls and `compose`
writes the answer. Either way `ground_check` redacts secrets, withholds any sentence repeating
the system prompt and removes any figure that no tool of this turn produced.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from langchain_core.messages import AIMessage, RemoveMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime

from agent.graph.calls import for_model, run_call
from agent.graph.context import TurnContext
from agent.graph.prompts import FALLBACK_NOTE, RISK_NOTE, SYSTEM_PROMPT, WITHHELD_NOTE
from agent.graph.state import AgentState, ToolRun
from agent.guards.disclosure import guard_disclosure
from agent.guards.fit import check_fit
from agent.guards.grounding import check_grounding, strip_unsupported
from agent.offline.compose import OFFLINE_FOOTER, compose_offline
from agent.offline.planner import ConversationContext, Plan, plan_turn

TOKEN_CHUNK = 24  # characters per streamed `token` event of the grounded answer


def offline_plan(state: AgentState, ctx: TurnContext, notes: list[str]) -> dict[str, Any]:
    """The planner's calls for this turn (only tools this process has) and its memory update."""
    context = ConversationContext.model_validate(state.get("context") or {})
    plan = plan_turn(state["question"], context)
    calls = [
        {"id": f"call_{i}", "name": c.name, "args": c.args}
        for i, c in enumerate(plan.tool_calls)
        if c.name in ctx.tools
    ]
    return {
        "mode": "offline",
        "plan": plan.model_dump(mode="json"),
        "pending": calls,
        "notes": notes + plan.notes,
        "context": plan.updated_context(context).model_dump(mode="json"),
    }


def _fallback(state: AgentState, ctx: TurnContext, notes: list[str], reason: str) -> dict[str, Any]:
    return offline_plan(state, ctx, [*notes, FALLBACK_NOTE.format(reason=reason)])


async def understand(
    state: AgentState, config: RunnableConfig, runtime: Runtime[TurnContext]
) -> dict[str, Any]:
    """Decide this turn's tool calls (LLM, or the offline planner)."""
    ctx = runtime.context
    notes = list(state.get("notes") or [])
    if ctx.model is None or state.get("mode") == "offline":
        return offline_plan(state, ctx, notes)
    rounds = state.get("llm_rounds", 0)
    if rounds >= ctx.max_llm_rounds or state.get("llm_tokens", 0) >= ctx.settings.llm_max_tokens:
        return _fallback(state, ctx, notes, "turn budget used up")
    history = list(state.get("messages", []))[-ctx.settings.history_messages :]
    prompt = [SystemMessage(SYSTEM_PROMPT), *history, *state.get("scratch", [])]
    try:
        reply = await ctx.model.ainvoke(prompt, config)
    except Exception as exc:  # any provider failure falls back to offline mode
        reason = "timeout" if "timeout" in type(exc).__name__.lower() else type(exc).__name__
        return _fallback(state, ctx, notes, reason)
    if not isinstance(reply, AIMessage):
        return _fallback(state, ctx, notes, f"unexpected reply {type(reply).__name__}")
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


async def call_tools(
    state: AgentState, config: RunnableConfig, runtime: Runtime[TurnContext]
) -> dict[str, Any]:
    """Run the pending calls in parallel, at most `MAX_TOOL_CALLS` per turn; a failure becomes
    a readable message, and in LLM mode every call the model made gets an answer."""
    ctx = runtime.context
    limit = ctx.settings.max_tool_calls
    done = list(state.get("results", []))
    budget = max(limit - len(done), 0)
    pending = state.get("pending", [])
    notes = list(state.get("notes") or [])
    skipped: list[dict[str, Any]] = []
    if len(pending) > budget:
        notes.append(f"only {budget} of {len(pending)} tool calls were run (limit per turn)")
        pending, skipped = pending[:budget], pending[budget:]
    writer = runtime.stream_writer
    runs = list(await asyncio.gather(*(run_call(c, ctx, config, writer) for c in pending)))
    scratch = list(state.get("scratch", []))
    if state.get("mode") == "llm":
        scratch += [
            ToolMessage(
                content=json.dumps(
                    for_model(r["result"]) if r["ok"] else {"error": r["error"]}, default=str
                ),
                tool_call_id=r["id"],
                name=r["name"],
            )
            for r in runs
        ]
        refusal = json.dumps(
            {"error": f"not run: the limit of {limit} tool calls per turn was reached"}
        )
        scratch += [
            ToolMessage(content=refusal, tool_call_id=c["id"], name=c["name"]) for c in skipped
        ]
    return {"results": done + runs, "pending": [], "scratch": scratch, "notes": notes}


async def compose(state: AgentState) -> dict[str, Any]:
    """Write the answer: the model's own text in LLM mode, the composer offline."""
    if state.get("mode") == "llm":
        return {"answer": state.get("answer", "")}
    plan = Plan.model_validate(state["plan"])
    return {"answer": compose_offline(plan, state.get("results", []), state.get("notes") or [])}


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


def _with_fit(answer: str, said: list[str]) -> str:
    """The answer with what the fit check found, before the offline footer when there is one."""
    if not said:
        return answer
    note = "\n".join(f"Note: {sentence}" for sentence in said)
    body, footer = (
        (answer[: -len(OFFLINE_FOOTER)].rstrip(), OFFLINE_FOOTER)
        if answer.endswith(OFFLINE_FOOTER)
        else (answer.rstrip(), "")
    )
    return "\n\n".join(part for part in (body, note, footer) if part)


async def ground_check(state: AgentState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
    """No secret, no system prompt, every figure from this turn's tools, and the answer about
    what was asked (the fit check says what the tools changed or left out)."""
    ctx = runtime.context
    # a failed tool's message is tool output too (a date range, a limit): its figures count, and
    # so do the notes the code wrote (a horizon clamped to 1 to 30 days), never the model's
    results = [r["result"] if r["ok"] else {"error": r["error"]} for r in state.get("results", [])]
    results.append({"notes": list(state.get("notes") or [])})
    answer, disclosure = guard_disclosure(
        state.get("answer", ""), ctx.redactor.prose, SYSTEM_PROMPT, [RISK_NOTE], WITHHELD_NOTE
    )
    verdict = check_grounding(answer, results, question=state.get("question", ""))
    if not verdict.grounded:
        answer = strip_unsupported(answer, verdict)
    # after grounding: the fit sentences quote the question and the calls, not tool output
    fit = check_fit(state.get("question", ""), state.get("results", []), answer)
    answer = _with_fit(answer, fit.said)
    writer = runtime.stream_writer
    for start in range(0, len(answer), TOKEN_CHUNK):
        writer({"type": "token", "text": answer[start : start + TOKEN_CHUNK]})
    history = list(state.get("messages", []))
    overflow = len(history) + 1 - ctx.settings.history_messages
    trimmed = [RemoveMessage(id=m.id) for m in history[: max(overflow, 0)] if m.id]
    update: dict[str, Any] = {
        "answer": answer,
        "grounding": verdict.model_dump() | {"disclosure": disclosure.model_dump()},
        "fit": fit.model_dump(),
        "messages": [*trimmed, AIMessage(answer)],
    }
    if state.get("mode") == "llm":
        context = ConversationContext.model_validate(state.get("context") or {})
        update["context"] = _context_from_calls(context, state.get("results", [])).model_dump(
            mode="json"
        )
    return update
