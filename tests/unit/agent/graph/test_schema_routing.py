"""The routing schema generated from the tool table, and a model's JSON read back into calls."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from agent.errors import ModelOutputError
from agent.graph.schema_routing import (
    DATE_PATTERN,
    MAX_LIST,
    VALUE_SETS,
    parse_calls,
    response_format,
    routing_schema,
)
from agent.toolkit import (
    FORECAST_PRICE,
    GET_PRICE,
    NEWS_SENTIMENT,
    SEARCH_KNOWLEDGE,
    TABLE,
    TECHNICAL_ANALYSIS,
    TOOLS,
)

SCHEMA = routing_schema(max_calls=5)
BRANCHES = {
    b["properties"]["tool"]["const"]: b for b in SCHEMA["properties"]["calls"]["items"]["anyOf"]
}


def objects(node: Any) -> Iterator[dict[str, Any]]:
    """Every object schema inside `node`."""
    if isinstance(node, dict):
        if node.get("type") == "object":
            yield node
        for value in node.values():
            yield from objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from objects(value)


def value_types(node: dict[str, Any]) -> set[str]:
    """The JSON types an argument's schema allows."""
    return {option["type"] for option in node.get("anyOf", [node])}


def test_every_tool_of_the_table_has_one_branch_with_its_arguments() -> None:
    assert list(BRANCHES) == [spec.name for spec in TOOLS]
    for spec in TOOLS:
        args = BRANCHES[spec.name]["properties"]["args"]
        assert list(args["properties"]) == list(spec.args.model_fields)
        assert args["required"] == list(spec.args.model_fields)  # strict: every key present
        assert BRANCHES[spec.name]["required"] == ["tool", "args"]
    assert SCHEMA["required"] == ["calls"] and SCHEMA["properties"]["calls"]["maxItems"] == 5


def test_every_object_forbids_other_keys() -> None:
    found = list(objects(SCHEMA))
    assert len(found) == 1 + 2 * len(TOOLS)  # the reply, each call and each call's arguments
    assert all(node["additionalProperties"] is False for node in found)
    assert all(set(node["required"]) == set(node["properties"]) for node in found)


def test_arguments_keep_their_types_bounds_and_defaults_as_null() -> None:
    price = BRANCHES[GET_PRICE]["properties"]["args"]["properties"]
    assert price["symbol"] == {
        "type": "string",
        "enum": VALUE_SETS["symbol"],
        "description": TABLE[GET_PRICE].args.model_fields["symbol"].description,
    }
    # an optional argument is nullable: null means the tool's default
    period = price["period_days"]["anyOf"]
    assert period == [{"type": "integer", "minimum": 1, "maximum": 3650}, {"type": "null"}]
    assert value_types(price["interval"]) == {"string", "null"}
    assert price["interval"]["anyOf"][0]["enum"] == ["1d", "1h"]
    assert price["as_of"]["anyOf"][0] == {"type": "string", "pattern": DATE_PATTERN}
    horizon = BRANCHES[FORECAST_PRICE]["properties"]["args"]["properties"]["horizon_days"]
    assert horizon["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 30}
    technical = BRANCHES[TECHNICAL_ANALYSIS]["properties"]["args"]["properties"]
    groups = technical["indicators"]["anyOf"][0]
    assert groups["type"] == "array" and groups["maxItems"] == MAX_LIST
    assert "rsi" in groups["items"]["enum"] and "macd" in groups["items"]["enum"]
    search = BRANCHES[SEARCH_KNOWLEDGE]["properties"]["args"]["properties"]
    assert search["query"]["type"] == "string" and search["query"]["minLength"] == 1
    assert search["kind"]["anyOf"][0]["enum"] == ["guide", "coin", "news", "model_card"]
    assert "BTC" in VALUE_SETS["symbol"] and "UNI" in VALUE_SETS["symbol"]


def test_the_schema_is_valid_json_schema_and_rejects_what_the_tools_would() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    good = {"calls": [{"tool": FORECAST_PRICE, "args": {"symbol": "SOL", "horizon_days": 10}}]}
    assert validator.is_valid(good)
    assert validator.is_valid({"calls": []})
    bad = [
        {"calls": [{"tool": "transfer_funds", "args": {}}]},
        {"calls": [{"tool": FORECAST_PRICE, "args": {"symbol": "SOL", "horizon_days": 90}}]},
        {"calls": [{"tool": FORECAST_PRICE, "args": {"symbol": "FLOKI", "horizon_days": 3}}]},
        {"calls": [{"tool": FORECAST_PRICE, "args": {"symbol": "SOL", "horizon_days": 3, "x": 1}}]},
        {
            "calls": [
                {
                    "tool": GET_PRICE,
                    "args": {
                        "symbol": "BTC",
                        "period_days": None,
                        "interval": None,
                        "as_of": "last tuesday",
                    },
                }
            ]
        },
        {"calls": [], "answer": "I think BTC will rise"},
    ]
    assert [validator.is_valid(reply) for reply in bad] == [False] * len(bad)


def test_a_subset_of_the_tools_gives_a_schema_of_those_alone() -> None:
    schema = routing_schema([TABLE[GET_PRICE], TABLE[NEWS_SENTIMENT]], max_calls=2)
    tools = [
        b["properties"]["tool"]["const"] for b in schema["properties"]["calls"]["items"]["anyOf"]
    ]
    assert tools == [GET_PRICE, NEWS_SENTIMENT]
    assert response_format(schema) == {
        "type": "json_schema",
        "json_schema": {"name": "tool_calls", "schema": schema, "strict": True},
    }


def test_a_routing_reply_becomes_calls_with_nulls_dropped_and_repeats_removed() -> None:
    reply = {"calls": [
        {"tool": TECHNICAL_ANALYSIS, "args": {"symbol": "ETH", "interval": None,
                                              "indicators": ["rsi"], "as_of": None}},
        {"tool": NEWS_SENTIMENT, "args": {"symbol": "ETH", "window_days": None}},
        {"tool": NEWS_SENTIMENT, "args": {"symbol": "ETH", "window_days": None}},
    ]}  # fmt: skip
    calls = parse_calls(json.dumps(reply))
    assert calls == [
        {
            "id": "route_0",
            "name": TECHNICAL_ANALYSIS,
            "args": {"symbol": "ETH", "indicators": ["rsi"]},
        },
        {"id": "route_1", "name": NEWS_SENTIMENT, "args": {"symbol": "ETH"}},
    ]
    assert parse_calls('```json\n{"calls": []}\n```') == []  # a fenced reply is read too


def test_arguments_the_tool_refuses_become_an_invalid_call_with_the_reason() -> None:
    reply = {"calls": [{"tool": GET_PRICE, "args": {"symbol": "BTC", "as_of": "2023-02-30"}}]}
    (call,) = parse_calls(json.dumps(reply))
    assert call["name"] == GET_PRICE and call["args"]["as_of"] == "2023-02-30"
    assert call["invalid"].startswith("its arguments were refused (as_of")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("BTC is at 90,000", "not JSON"),
        ('{"tool": "get_price"}', 'not an object {"calls"'),
        ('{"calls": {"tool": "get_price"}}', 'not an object {"calls"'),
        ('{"calls": [{"tool": "transfer_funds", "args": {}}]}', "names no tool"),
        (
            '{"calls": [{"tool": "get_price", "args": {"symbol": "BTC", "password": 1}}]}',
            "no argument password",
        ),
        ('{"calls": [{"tool": "get_price", "args": "BTC"}]}', "not an object"),
        ('{"calls": [{"tool": "get_price"}]}', "not an object with a tool and its args"),
    ],
)
def test_a_reply_outside_the_schema_is_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ModelOutputError, match=re.escape(reason)):
        parse_calls(text)


def test_only_the_tools_given_may_be_called() -> None:
    with pytest.raises(ModelOutputError, match="names no tool"):
        parse_calls('{"calls": [{"tool": "news_sentiment", "args": {"symbol": "BTC"}}]}', {})
