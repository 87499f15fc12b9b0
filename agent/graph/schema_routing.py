"""Structured routing: a JSON schema generated from the tool table, and the model's reply parsed
back into tool calls.

For models without reliable tool calling (small local ones), the model fills this schema under
constrained decoding (OpenAI's `response_format` json_schema, which llama.cpp's server and Ollama
compile to a grammar), so every call names a real tool with arguments of its declared types; the
calls then run in code like any other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from agent.errors import ModelOutputError
from agent.graph.calls import readable
from agent.toolkit import TABLE, TOOLS, ToolSpec
from knowledge.market.symbols import CATALOGUE
from tools.indicators.params import INDICATOR_NAMES

SCHEMA_NAME = "tool_calls"
# a calendar day between 1970 and 2099 (the tools refuse dates outside the data anyway)
DATE_PATTERN = r"^(19[7-9][0-9]|20[0-9][0-9])-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
# arguments whose values are a closed set the tools know: coins by ticker, indicator groups
VALUE_SETS: dict[str, list[str]] = {
    "symbol": [coin.ticker for coin in CATALOGUE],
    "name": list(INDICATOR_NAMES),
    "indicators": list(INDICATOR_NAMES),
}
_KEPT = ("minimum", "maximum", "minLength", "maxLength", "maxItems")
# shorter bounds than the tools' own: a small model that starts repeating itself stops sooner
MAX_TEXT, MAX_LIST = 160, 4


def _value(name: str, options: list[dict[str, Any]]) -> dict[str, Any]:
    """The schema of one argument's non-null value, in the subset strict decoders accept."""
    if any(option.get("format") in ("date", "date-time") for option in options):
        return {"type": "string", "pattern": DATE_PATTERN}  # a day; the tools read it by the rule
    if len(options) != 1 or "type" not in options[0]:
        raise ValueError(f"argument {name!r} has a type the routing schema cannot express")
    node = options[0]
    value: dict[str, Any] = {"type": node["type"]}
    value |= {key: node[key] for key in _KEPT if key in node}
    if "maxLength" in value:
        value["maxLength"] = min(value["maxLength"], MAX_TEXT)
    if node["type"] == "array":
        value["maxItems"] = min(value.get("maxItems", MAX_LIST), MAX_LIST)
    if node["type"] == "string" and (name in VALUE_SETS or "enum" in node):
        value = {"type": "string", "enum": VALUE_SETS.get(name) or list(node["enum"])}
    elif node["type"] == "array":
        items = node.get("items", {})
        if name in VALUE_SETS:
            value["items"] = {"type": "string", "enum": VALUE_SETS[name]}
        else:
            value["items"] = _value(name, [items])
    elif node["type"] not in ("string", "integer", "number", "boolean"):
        raise ValueError(f"argument {name!r} has a type the routing schema cannot express")
    return value


def _arguments(spec: ToolSpec) -> dict[str, Any]:
    """A tool's arguments as a strict object: every key present, optional ones nullable (null
    means the tool's default), nothing else allowed."""
    schema = spec.args.model_json_schema()
    required = set(schema.get("required", []))
    properties: dict[str, Any] = {}
    for name, node in schema["properties"].items():
        options = node.get("anyOf", [node])
        nullable = any(option.get("type") == "null" for option in options)
        value = _value(name, [option for option in options if option.get("type") != "null"])
        if nullable or name not in required:
            value = {"anyOf": [value, {"type": "null"}]}
        if "description" in node:
            value["description"] = node["description"]
        properties[name] = value
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def routing_schema(specs: Iterable[ToolSpec] = TOOLS, *, max_calls: int = 8) -> dict[str, Any]:
    """`{"calls": [{"tool": NAME, "args": {...}}, ...]}`: one branch per tool, its name a
    constant and its arguments typed; an empty list means that no tool answers the message."""
    branches = [
        {
            "type": "object",
            "description": spec.description,
            "properties": {"tool": {"const": spec.name}, "args": _arguments(spec)},
            "required": ["tool", "args"],
            "additionalProperties": False,
        }
        for spec in specs
    ]
    return {
        "type": "object",
        "properties": {
            "calls": {"type": "array", "items": {"anyOf": branches}, "maxItems": max_calls}
        },
        "required": ["calls"],
        "additionalProperties": False,
    }


def response_format(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAI-style `response_format` that asks for `schema` under strict decoding."""
    return {
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "schema": schema, "strict": True},
    }


def _json(text: str) -> Any:
    """The reply as JSON; a fenced block is read too (providers that ignore the format)."""
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    try:
        return json.loads(body)
    except ValueError:
        raise ModelOutputError("the model's routing reply is not JSON") from None


def parse_calls(text: str, specs: Mapping[str, ToolSpec] = TABLE) -> list[dict[str, Any]]:
    """The tool calls of a routing reply, each (tool, arguments) once, nulls dropped (the
    tool's default applies).

    A reply outside the schema's shape (not an object of calls, an unknown tool or argument)
    raises `ModelOutputError`; arguments of the right shape that the tool's own checks refuse
    (a day that does not exist) become a call marked `invalid`, answered with the reason.
    """
    data = _json(text)
    if not isinstance(data, dict) or set(data) != {"calls"} or not isinstance(data["calls"], list):
        raise ModelOutputError('the routing reply is not an object {"calls": [...]}')
    calls: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(data["calls"]):
        if not isinstance(item, dict) or set(item) != {"tool", "args"}:
            raise ModelOutputError(f"call {index} is not an object with a tool and its args")
        spec = specs.get(str(item["tool"]))
        if spec is None:
            raise ModelOutputError(f"call {index} names no tool of the table: {item['tool']!r}")
        if not isinstance(item["args"], dict):
            raise ModelOutputError(f"the arguments of call {index} are not an object")
        args = {key: value for key, value in item["args"].items() if value is not None}
        unknown = sorted(set(args) - set(spec.args.model_fields))
        if unknown:
            raise ModelOutputError(f"{spec.name} has no argument {', '.join(unknown)}")
        key = json.dumps([spec.name, args], sort_keys=True, default=str)
        if key in seen:
            continue
        seen.add(key)
        call: dict[str, Any] = {"id": f"route_{index}", "name": spec.name, "args": args}
        try:
            spec.args.model_validate(args)
        except ValidationError as exc:
            call["invalid"] = f"its arguments were refused ({readable(exc)})"
        calls.append(call)
    return calls
