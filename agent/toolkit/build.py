"""The tool table bound to this process's services, as LangChain tools for the graph."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool, StructuredTool

from agent.toolkit.table import TOOLS, Engines, ToolSpec


def bind(spec: ToolSpec, engines: Engines) -> BaseTool:
    """One LangChain tool: the arguments checked against `spec.args`, then the service call."""

    async def call(**kwargs: Any) -> dict[str, Any]:
        # the tool has validated `kwargs` against `spec.args` already: no second validation
        return await spec.run(engines, spec.args.model_construct(**kwargs))

    return StructuredTool(
        name=spec.name, description=spec.description, args_schema=spec.args, coroutine=call
    )


def build_tools(engines: Engines) -> list[BaseTool]:
    """Every tool of the table, bound to `engines`."""
    return [bind(spec, engines) for spec in TOOLS]
