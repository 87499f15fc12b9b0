"""The graph's nodes: understand -> call tools -> compose -> ground-check.

Each node is a plain function of the state and LangGraph's runtime (its context is a
`TurnContext`: settings, tools, the chat model, the redactor), so each is tested alone with a
fake chat model. With a model configured, the keyless planner still reads every turn first and
answers it when it is confident (`LLM_ASK=unsure`); otherwise `understand` asks the model: in
native mode it calls tools and is asked again with their results, in schema mode it fills the
tool table's schema once (`agent.graph.schema_turn`) and the composer writes the answer. Keyless,
the planner decides the calls and `compose` writes the answer. Either way `ground_check` redacts
secrets, withholds any sentence repeating the system prompt and removes any figure that no tool
of this turn produced.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from langchain_core.messages import AIMessage, RemoveMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime

from agent.graph import schema_turn
from agent.graph.calls import for_model, run_call
from agent.graph.context import TurnContext
from agent.graph.llm import failure_reason
from agent.graph.prompts import FALLBACK_NOTE, RISK_NOTE, SYSTEM_PROMPT, WITHHELD_NOTE
from agent.graph.schema_turn import SCHEMA_FOOTER
from agent.graph.state import AgentState, ToolRun
from agent.guards.disclosure import guard_disclosure
from agent.guards.fit import check_fit
from agent.guards.grounding import check_grounding, strip_unsupported
from agent.offline.compose import OFFLINE_FOOTER, compose_offline
from agent.offline.planner import ConversationContext, Plan, plan_turn

TOKEN_CHUNK = 24  # characters per streamed `token` event of the grounded answer


def _context(state: AgentState) -> ConversationContext:
    return ConversationContext.model_validate(state.get("context") or {})


def offline_plan(
    state: AgentState, ctx: TurnContext, notes: list[str], plan: Plan | None = None
) -> dict[str, Any]:
    """The planner's calls for this turn (only tools this process has) and its memory update;
    `plan` is the turn's keyless reading when it was made already."""
    context = _context(state)
    # with no model to ask, the classifier need not vouch for what a rule decided (one embedding less)
    plan = plan or plan_turn(state["question"], context, vouch=False)
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


def _fallback(
    state: AgentState, ctx: TurnContext, notes: list[str], reason: str, plan: Plan | None = None
) -> dict[str, Any]:
    return offline_plan(state, ctx, [*notes, FALLBACK_NOTE.format(reason=reason)], plan)


async def understand(
    state: AgentState, config: RunnableConfig, runtime: Runtime[TurnContext]
) -> dict[str, Any]:
    """Decide this turn's tool calls: the keyless planner when no model is configured or when
    it is confident (`LLM_ASK=unsure`), else the model (native tool calls or schema routing)."""
    ctx = runtime.context
    notes = list(state.get("notes") or [])
    if ctx.model is None or state.get("mode") == "offline":
        return offline_plan(state, ctx, notes)
    rounds = state.get("llm_rounds", 0)
    if rounds == 0:  # the keyless reading first: it decides when sure, and backs the model
        keyless = plan_turn(state["question"], _context(state))
        if ctx.settings.llm_ask == "unsure" and keyless.confident:
            return offline_plan(state, ctx, notes, keyless)
        if ctx.tool_mode == "schema":
            try:
                return await schema_turn.route(state, config, ctx, keyless, _context(state), notes)
            except Exception as exc:  # any provider or output failure: the keyless plan
                return _fallback(state, ctx, notes, failure_reason(exc), keyless)
    if rounds >= ctx.max_llm_rounds or state.get("llm_tokens", 0) >= ctx.settings.llm_max_tokens:
        return _fallback(state, ctx, notes, "turn budget used up")
    history = list(state.get("messages", []))[-ctx.settings.history_messages :]
    prompt = [SystemMessage(SYSTEM_PROMPT), *history, *state.get("scratch", [])]
    try:
        reply = await ctx.model.ainvoke(prompt, config)
    except Exception as exc:  # any provider failure falls back to offline mode
        return _fallback(state, ctx, notes, failure_reason(exc))
    if not isinstance(reply, AIMessage):
        return _fallback(state, ctx, notes, f"unexpected reply {type(reply).__name__}")
    used = reply.usage_metadata["total_tokens"] if reply.usage_metadata else 0
    update: dict[str, Any] = {
        "mode": "llm",
        "route": "native",
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


def _native(state: AgentState) -> bool:
    return state.get("mode") == "llm" and state.get("route") != "schema"


async def compose(
    state: AgentState, config: RunnableConfig, runtime: Runtime[TurnContext]
) -> dict[str, Any]:
    """Write the answer: the model's own text in native LLM mode; in schema mode the model from
    the tool results when `LLM_SCHEMA_ANSWER=model` (the composer if it fails), else the
    composer; keyless, the composer."""
    if _native(state):
        return {"answer": state.get("answer", "")}
    notes = list(state.get("notes") or [])
    plan = Plan.model_validate(state["plan"])
    if state.get("mode") != "llm":
        return {"answer": compose_offline(plan, state.get("results", []), notes)}
    if runtime.context.settings.llm_schema_answer == "model":
        try:
            return {"answer": await schema_turn.write_answer(state, config, runtime.context)}
        except Exception as exc:  # the composer writes it from the same results
            notes.append(FALLBACK_NOTE.format(reason=failure_reason(exc)))
    answer = compose_offline(plan, state.get("results", []), notes)
    return {"answer": answer.removesuffix(OFFLINE_FOOTER).rstrip() + "\n\n" + SCHEMA_FOOTER}


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
    footer = next((f for f in (OFFLINE_FOOTER, SCHEMA_FOOTER) if answer.endswith(f)), "")
    body = answer.removesuffix(footer).rstrip()
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
    if _native(state):  # schema mode and keyless turns remember their plan already
        context = _context_from_calls(_context(state), state.get("results", []))
        update["context"] = context.model_dump(mode="json")
    return update
