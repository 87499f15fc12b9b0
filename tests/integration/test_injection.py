"""SQL injection attempts in every path, query and JSON string parameter of the REST API.

The targets are read from the app's own OpenAPI schema, so a new route or parameter is attacked
without touching this file. Each classic payload must be refused or answered plainly: no 5xx,
errors in the documented shape, no database error text in the answer, no table dropped or
changed, and no request slow enough to mean `pg_sleep` ran.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from agent.core import Services
from agent.settings import Settings
from api.main import create_app
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv
from tests.helpers import assert_error_shape, snapshot

if TYPE_CHECKING:
    from httpx2 import Response  # what the Starlette test client returns

ADMIN_KEY = "inject-admin-key-51c0"
PAYLOADS = (
    "' OR '1'='1",
    "BTC-USD' OR '1'='1' --",
    "BTC-USD'; DROP TABLE price_bars;--",
    'btc"; DELETE FROM documents; --',
    "1; SELECT pg_sleep(5)--",
    "BTC-USD' AND (SELECT 1 FROM pg_sleep(5)) IS NOT NULL --",
    "' UNION SELECT table_name, NULL FROM information_schema.tables --",
    "btc\x00' OR 1=1 --",  # a NUL byte: Postgres text cannot hold one
    "比特币' OR 'ä'='ä' -- \u202e\U0001f680",  # non-ASCII, a bidi override, an emoji
    "'" * 3 + "x" * 6000,  # longer than every length limit and the query-string limit
)
# Database error text that must never reach a client.
LEAKS = (
    "syntax error",
    "psycopg",
    "sqlstate",
    "unterminated quoted",
    "programmingerror",
    "undefinedtable",
    "does not exist",
    "line 1:",
    "traceback",
    "nul (0x00)",
)
# A request that let `pg_sleep(5)` run takes 5 s; everything else here answers in well under a
# second. A slow one is timed again: pg_sleep is slow every time, a stall of a busy machine is not.
SLOW_SECONDS = 4.0
# Tables a chat turn writes by design (the thread's memory); they may only grow.
# chat memory, who owns each thread, and the live stances served (one row per coin and bar)
GROWS_BY_DESIGN = ("checkpoint", "thread_owners", "stance_ledger")
# Valid values for the parameters not under attack, so the payload reaches the handler.
VALID = {
    "symbol": "BTC-USD",
    "symbols": ["BTC-USD"],
    "q": "bitcoin supply",
    "message": "What is the RSI of BTC?",
    "question": "Is BTC oversold?",
    "texts": ["Bitcoin rallies after ETF approval"],
    "job_id": "0" * 32,
}


@dataclass(frozen=True)
class Target:
    """One place a payload can go: a path or query parameter, or a JSON body field."""

    method: str
    path: str
    location: str  # path, query or body
    name: str
    as_list: bool  # the body field is a list of strings


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` in the OpenAPI document."""
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _types(schema: dict[str, Any], node: dict[str, Any]) -> set[str]:
    """The JSON types a field accepts (`anyOf` flattened), arrays as `array:<item type>`."""
    node = _resolve(schema, node)
    if "anyOf" in node:
        return set().union(*(_types(schema, option) for option in node["anyOf"]))
    if node.get("type") == "array":
        return {f"array:{t}" for t in _types(schema, node.get("items", {}))}
    return {node["type"]} if "type" in node else set()


def targets(schema: dict[str, Any]) -> list[Target]:
    """Every path and query parameter, and every string (or string list) JSON body field."""
    found: list[Target] = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] in ("path", "query"):
                    found.append(Target(method, path, parameter["in"], parameter["name"], False))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            properties = _resolve(schema, body["schema"]).get("properties", {})
            for name, field in properties.items():
                kinds = _types(schema, field)
                if "string" in kinds or "array:string" in kinds:
                    found.append(Target(method, path, "body", name, "string" not in kinds))
    return found


def _required_body(schema: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    """Valid values for the body's required fields."""
    operation = schema["paths"][path][method]
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is None:
        return {}
    model = _resolve(schema, body["schema"])
    return {name: VALID[name] for name in model.get("required", [])}


def _request(client: TestClient, schema: dict[str, Any], target: Target, payload: str) -> Response:
    """Send the payload in the target's place, with valid values everywhere else."""
    operation = schema["paths"][target.path][target.method]
    path_values: dict[str, str] = {}
    query: dict[str, Any] = {}
    for parameter in operation.get("parameters", []):
        name, where = parameter["name"], parameter["in"]
        if (where, name) == (target.location, target.name):
            value: Any = payload
        elif parameter.get("required"):
            value = VALID[name]
        else:
            continue
        if where == "path":
            path_values[name] = quote(value, safe="")
        elif where == "query":
            query[name] = value
    url = target.path.format(**path_values)
    kwargs: dict[str, Any] = {"params": query, "headers": {"X-API-Key": ADMIN_KEY}}
    if "requestBody" in operation:
        body = _required_body(schema, target.path, target.method)
        if target.location == "body":
            body[target.name] = [payload] if target.as_list else payload
        kwargs["json"] = body
    return client.request(target.method.upper(), url, **kwargs)


def _tables(services: Services) -> dict[str, tuple[int, str]]:
    """Rows and an md5 of all rows per table in the public schema (see tests.helpers.snapshot)."""
    return {
        name.removeprefix("public."): state
        for name, state in snapshot(services.dsn).items()
        if name.startswith("public.")
    }


def _row_counts(services: Services) -> dict[str, int]:
    """Rows per table in the public schema."""
    return {name: rows for name, (rows, _) in _tables(services).items()}


@pytest.fixture
def loaded(make_settings: Callable[..., Settings], tmp_path: Path) -> Iterator[Services]:
    """A fresh database with bars, a knowledge document and limits the attack cannot reach."""
    built = Services.build(
        make_settings(
            admin_api_key=ADMIN_KEY,
            rate_limit_data_per_minute=100_000,
            rate_limit_chat_per_minute=100_000,
            rate_limit_admin_per_minute=100_000,
        )
    )
    import_file(built.prices, write_csv(tmp_path, "BTC-USD.csv", synthetic_bars(300, seed=5)))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "btc.md").write_text(
        "---\ntitle: Bitcoin\nkind: coin\nsymbols: [BTC]\n---\n# Bitcoin\n\n## Supply\n\n"
        "The supply of bitcoin is capped at 21 million coins.\n"
    )
    built.knowledge.ingest([docs])
    yield built
    built.db.close()


def test_targets_cover_every_route_with_inputs(client: TestClient) -> None:
    """The enumeration sees the symbol-bearing routes and body fields (so none is skipped)."""
    found = targets(client.get("/openapi.json").json())
    places = {(t.path, t.location, t.name) for t in found}
    assert {
        ("/historical-data/{symbol}", "path", "symbol"),
        ("/historical-data/{symbol}", "query", "start"),
        ("/knowledge/search", "query", "q"),
        ("/technical", "body", "symbol"),
        ("/technical", "body", "indicators"),
        ("/chat", "body", "message"),
        ("/admin/market/refresh", "body", "symbols"),
        ("/admin/jobs/{job_id}", "path", "job_id"),
    } <= places
    assert len(found) >= 30


def test_injection_payloads_change_nothing_and_leak_nothing(loaded: Services) -> None:
    """Every payload in every input: a plain 2xx/4xx answer, fast, and the tables untouched."""
    with TestClient(create_app(loaded.settings, loaded), raise_server_exceptions=False) as client:
        schema = client.get("/openapi.json").json()
        # warm the lazy parts (embedding model, chat graph) so timings measure the request
        assert client.get("/knowledge/search", params={"q": "warm"}).status_code == 200
        assert client.post("/chat", json={"message": "hi"}).status_code == 200
        before_tables = _tables(loaded)
        before = _row_counts(loaded)
        problems: list[str] = []
        sent, slowest = 0, 0.0
        answered: Counter[str] = Counter()  # 2xx answers per route: payloads reached handlers
        for target in targets(schema):
            for payload in PAYLOADS:
                started = time.perf_counter()
                response = _request(client, schema, target, payload)
                elapsed = time.perf_counter() - started
                sent, slowest = sent + 1, max(slowest, elapsed)
                if response.status_code < 300:
                    answered[target.path] += 1
                where = f"{target.method.upper()} {target.path} {target.location}:{target.name}"
                shown = f"{where} <- {payload[:60]!r}"
                text = response.text.lower()
                if response.status_code >= 500:
                    problems.append(f"{shown}: {response.status_code} {response.text[:300]}")
                if response.status_code >= 400:
                    try:
                        assert_error_shape(response)
                    except AssertionError as exc:
                        problems.append(f"{shown}: error shape {exc}")
                if leaked := [marker for marker in LEAKS if marker in text]:
                    problems.append(f"{shown}: leaks {leaked}: {response.text[:300]}")
                if elapsed > SLOW_SECONDS:
                    again = time.perf_counter()
                    _request(client, schema, target, payload)
                    if (retried := time.perf_counter() - again) > SLOW_SECONDS:
                        problems.append(f"{shown}: took {elapsed:.1f} s, then {retried:.1f} s")
        after = _row_counts(loaded)
        after_tables = _tables(loaded)

    print(f"injection: {sent} requests, slowest {slowest:.2f} s, 2xx: {dict(answered)}")
    assert not problems, f"{len(problems)} of {sent} requests:\n" + "\n".join(problems)
    assert sent >= 30 * len(PAYLOADS)
    assert {"/knowledge/search", "/chat", "/sentiment"} <= set(answered)  # reached the database
    assert set(after) == set(before), "a table appeared or disappeared"
    assert before["price_bars"] == 300 and before["documents"] >= 1 and before["chunks"] >= 1
    grown = {t for t in before if t.startswith(GROWS_BY_DESIGN)}
    assert after.get("stance_ledger", 0) <= 2  # the valid coin's live bar, daily and hourly
    assert {t: after[t] for t in before if t not in grown} == {
        t: before[t] for t in before if t not in grown
    }
    assert all(after[t] >= before[t] for t in grown)
    # same counts could hide an UPDATE or a DELETE + INSERT: the contents must be identical too
    changed = {t for t in before_tables if t not in grown and after_tables[t] != before_tables[t]}
    assert not changed, f"tables whose rows changed: {sorted(changed)}"
    assert {t: n for t, (n, _) in before_tables.items()} == before
