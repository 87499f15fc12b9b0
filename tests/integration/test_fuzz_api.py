"""Property-based fuzzing of the whole REST API from its own OpenAPI schema (schemathesis).

Every operation in `/openapi.json` gets schema-valid and deliberately invalid requests on a
real fresh database holding synthetic bars. The promise checked: no answer is a 5xx, every
error has the one documented shape `{"error": {"code", "message", "details"}}`, and status
codes, content types and bodies match what the schema documents.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.result import Ok

from agent.core import Services
from agent.settings import Settings
from api.main import create_app
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv
from tests.helpers import assert_error_shape

if TYPE_CHECKING:
    from httpx2 import Response  # what the Starlette test client returns

ADMIN_KEY = "fuzz-admin-key-7f3a9c"
BASE_URL = "http://testserver"
JSON_HEADERS = {"Content-Type": "application/json"}
# Examples per operation and mode: 19 operations x 2 modes (+ the admin routes again with the
# key) make about 1,250 requests in ~25 s on two cores.
EXAMPLES = 40
# Not fuzzed, because the schema does not list them: the Chainlit web chat mounted at /ui and its
# websocket (tested in test_web_chat.py). /chat/stream is fuzzed: the test client reads the
# whole event stream, and a refused request is a plain JSON error before any event.
# The one deliberate 5xx: with no Telegram bot configured, its webhook answers 503
# `telegram_unavailable` (documented on the route); any other 5xx is a bug.
ALLOWED_5XX = {("POST", "/telegram/webhook"): {"telegram_unavailable"}}
# Schemathesis checks run on every response (status codes, content types and bodies as
# documented; invalid data rejected with a 4xx). The 5xx check is ours (see ALLOWED_5XX).
CHECK_NAMES = (
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
)


# Random strings are almost never a coin, so valid cases also draw symbols the app knows: stored
# daily and hourly (by symbol, ticker and name) and one supported coin with nothing stored.
KNOWN_SYMBOLS = ("BTC-USD", "btc", "bitcoin", "ETH-USD", "eth", "SOL-USD")
# Training a stored coin queues a real LSTM fit for a worker (none runs here; tested in
# test_forecasting.py); the train route gets only the coin with no bars, refused at once (404).
PINNED_FOR = {("POST", "/models/{symbol}/train"): ("SOL-USD",)}
# Operations the NEGATIVE mode cannot make invalid (Hypothesis raises Unsatisfiable): they take
# no parameters or body the schema constrains. Any other operation must get invalid requests.
NEGATIVE_UNSATISFIABLE = {
    "GET /",
    "GET /health",
    "GET /cryptocurrencies",
    "GET /metrics",
    "GET /system-status",
    "POST /telegram/webhook",  # the update body is free-form (Telegram's own schema)
}
# Invalid input may also be refused by the gatekeeper before validation (413/414): still a 4xx
# rejection, so it counts as rejecting the invalid data.
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": [401, 403, 404, 413, 414, 422]}}}
)


def _checks() -> list[Any]:
    """The schemathesis check functions named in CHECK_NAMES."""
    load_all_checks()
    return [CHECKS.get_one(name) for name in CHECK_NAMES]


@pytest.fixture
def fuzz_client(make_settings: Callable[..., Settings], tmp_path: Path) -> Iterator[TestClient]:
    """The app on a fresh database with daily and hourly bars, an admin key and limits the
    fuzzer cannot reach (it sends ~1,000 requests a minute from one client; a 429 would hide
    what the route itself does, and the limiter has its own tests)."""
    built = Services.build(
        make_settings(
            admin_api_key=ADMIN_KEY,
            rate_limit_data_per_minute=100_000,
            rate_limit_chat_per_minute=100_000,
            rate_limit_admin_per_minute=100_000,
            forecast_epochs=1,  # should a fuzzed symbol start a training job, keep it short
            forecast_eval_days=30,  # the smallest walk-forward window allowed
        )
    )
    import_file(built.prices, write_csv(tmp_path, "BTC-USD.csv", synthetic_bars(300, seed=3)))
    import_file(built.prices, write_csv(tmp_path, "ETH-USD.csv", synthetic_bars(300, seed=4)))
    import_file(built.prices, write_csv(tmp_path, "BTC-USD_1h.csv", synthetic_bars(300, freq="h")))
    with TestClient(create_app(built.settings, built), raise_server_exceptions=False) as client:
        yield client
    built.db.close()


def _send(client: TestClient, case: schemathesis.Case, headers: dict[str, str]) -> Response:
    """Send a generated case through the app's own test client (its lifespan is running)."""
    kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=headers or None)
    body: dict[str, Any] = {}
    if kwargs.get("cookies"):
        body["cookies"] = kwargs["cookies"]
    if "json" in kwargs:
        body["json"] = kwargs["json"]
    elif isinstance(kwargs.get("data"), bytes | str):
        body["content"] = kwargs["data"]
    elif "data" in kwargs:
        body["data"] = kwargs["data"]
    return client.request(
        kwargs["method"],
        kwargs["url"],
        params=kwargs.get("params"),
        headers=kwargs.get("headers"),
        **body,
    )


def _pin_symbol(case: schemathesis.Case, symbol: str | None) -> schemathesis.Case:
    """Put a known symbol wherever the generated case has a `symbol` (path, query or body)."""
    if symbol is None:
        return case
    for container in (case.path_parameters, case.query):
        if container and "symbol" in container:
            container["symbol"] = symbol
    if isinstance(case.body, dict) and "symbol" in case.body:
        case.body["symbol"] = symbol
    return case


def _strategy(
    operation: schemathesis.APIOperation, mode: GenerationMode, headers: dict[str, str]
) -> st.SearchStrategy[schemathesis.Case]:
    """Generated cases; valid ones get a known symbol about two times in three."""
    cases = operation.as_strategy(generation_mode=mode, headers=headers or None)
    names = {p.name for p in operation.iter_parameters()}
    has_symbol = "symbol" in names or any(
        '"symbol"' in json.dumps(b.raw_schema) for b in operation.body
    )
    if mode is GenerationMode.NEGATIVE or not has_symbol:  # pinning could make invalid valid
        return cases
    symbols = PINNED_FOR.get((operation.method.upper(), operation.path), KNOWN_SYMBOLS)
    choices = st.one_of(st.none(), st.sampled_from(symbols))
    return st.tuples(cases, choices, choices).map(lambda t: _pin_symbol(t[0], t[1] or t[2]))


def _fuzz_operation(
    client: TestClient,
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    headers: dict[str, str],
    checks: list[Any],
    on_response: Callable[[Response], None],
) -> None:
    """Run one bounded, derandomized Hypothesis search over one operation."""
    route = (operation.method.upper(), operation.path)

    @given(case=_strategy(operation, mode, headers))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        response = _send(client, case, headers)
        on_response(response)
        if response.status_code >= 500:
            code = json.loads(response.content).get("error", {}).get("code")
            assert code in ALLOWED_5XX.get(route, set()), (
                f"{route} answered {response.status_code}: {response.text[:500]}\n"
                f"{case.as_curl_command()}"
            )
        if response.status_code >= 400:
            assert_error_shape(response)
        case.validate_response(response, checks=checks)

    run()


def test_no_generated_request_gets_a_5xx_or_an_undocumented_error(
    fuzz_client: TestClient,
) -> None:
    """Fuzz every operation of the app's schema, admin routes with and without the key."""
    raw = fuzz_client.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(raw, config=CONFIG)
    checks = _checks()
    sent: Counter[str] = Counter()
    seen: dict[str, Counter[int]] = {}
    failures: list[str] = []
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), "parts of the schema could not be read"
    assert len(operations) >= 15  # the whole API, not an empty schema

    # admin routes document the key header and its 401; chat routes take the same header only
    # to know whose conversations the caller owns, so any key (or none) is accepted there
    refused = {
        f"{method.upper()} {path}"
        for path, ops in raw["paths"].items()
        for method, op in ops.items()
        if "401" in op.get("responses", {})
    }
    admin_labels = [
        op.label
        for op in operations
        if any(p.name.lower() == "x-api-key" for p in op.headers) and op.label in refused
    ]
    # the API has admin routes, and the schema documents their key header: without this the
    # "+key" runs below would silently never happen
    assert admin_labels, "no operation documents the X-API-Key header"
    assert {
        "POST /models/{symbol}/train",
        "POST /admin/market/refresh",
        "GET /admin/jobs/{job_id}",
        "GET /admin/jobs",
        "POST /admin/jobs/{job_id}/retry",
    } <= set(admin_labels), admin_labels
    unsatisfiable: set[str] = set()

    for operation in operations:
        # admin routes run twice: as generated (no header or a random key: must be 401/403 or
        # a 422 for the input) and with the configured key, to reach the handler itself
        admin = operation.label in admin_labels
        variants: list[tuple[str, dict[str, str]]] = [("", {})]
        if admin:
            variants.append(("+key", {"x-api-key": ADMIN_KEY}))
        for suffix, headers in variants:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                label = f"{operation.label}{suffix} [{mode.value}]"
                statuses = seen.setdefault(label, Counter())

                def record(
                    response: Response, label: str = label, statuses: Counter[int] = statuses
                ) -> None:
                    sent[label] += 1
                    statuses[response.status_code] += 1

                try:
                    _fuzz_operation(fuzz_client, operation, mode, headers, checks, record)
                except Unsatisfiable:
                    # nothing to make invalid (no parameters, or only free-form strings)
                    assert mode is GenerationMode.NEGATIVE, label
                    assert f"{operation.label}{suffix}" in NEGATIVE_UNSATISFIABLE, label
                    unsatisfiable.add(f"{operation.label}{suffix}")
                    continue
                # schemathesis reports check failures as a FailureGroup (a BaseExceptionGroup)
                except (Exception, BaseExceptionGroup) as exc:
                    failures.append(f"--- {label}\n{exc}")
                    continue
                if admin and not headers:
                    # without the configured key an admin route never does anything
                    assert not [s for s in statuses if s < 400], (label, statuses)

    print(f"schemathesis: {sum(sent.values())} generated requests over {len(sent)} runs")
    for label, statuses in seen.items():
        print(f"  {label}: {dict(sorted(statuses.items()))}")
    assert not failures, "\n\n".join(failures)
    assert unsatisfiable == NEGATIVE_UNSATISFIABLE
    for label in admin_labels:
        # with the configured key the handler itself answers: requests were sent and at least
        # one came back with something other than 401/403 (the key was accepted)
        keyed = seen[f"{label}+key [positive]"]
        assert sum(keyed.values()) > 0, (label, keyed)
        assert set(keyed) - {401, 403}, (label, keyed)
    assert all(sent[f"{op.label} [positive]"] for op in operations), "an operation got nothing"
    assert sum(sent.values()) >= 10 * len(operations)


@pytest.fixture
def small_limits_client(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    """The app with a 2 KB body limit (the fuzzer's findings below need no stored data)."""
    built = Services.build(make_settings(max_body_bytes=2048))
    with TestClient(create_app(built.settings, built)) as client:
        yield client
    built.db.close()


def test_inputs_the_fuzzer_broke_now_get_documented_errors(
    small_limits_client: TestClient,
) -> None:
    """Each of these was a 400, 500 or a silent misreading before; now a plain 4xx."""
    client = small_limits_client

    def chunks() -> Iterator[bytes]:
        yield b'{"message": "'
        for _ in range(10):
            yield b"x" * 1000  # no Content-Length: the limit is found while reading
        yield b'"}'

    cases = {
        "body not UTF-8": client.post(
            "/technical", content=b'{"symbol": "\xff\xfe"}', headers=JSON_HEADERS
        ),
        "streamed body over the limit": client.post(
            "/chat", content=chunks(), headers=JSON_HEADERS
        ),
        "NUL in a chat message": client.post("/chat", json={"message": "RSI of BTC?\x00"}),
        "NUL in a search": client.get("/knowledge/search", params={"q": "btc\x00"}),
        "a year read as a Unix time": client.get(
            "/knowledge/search", params={"q": "btc", "as_of": "2024"}
        ),
        "a number as a day": client.get("/historical-data/BTC-USD", params={"start": "0"}),
        "a number as as_of": client.post("/technical", json={"symbol": "btc", "as_of": 0}),
    }
    statuses = {name: (res.status_code, res.json()["error"]["code"]) for name, res in cases.items()}
    assert statuses == {
        "body not UTF-8": (422, "invalid_body"),
        "streamed body over the limit": (413, "body_too_large"),
        "NUL in a chat message": (422, "invalid_request"),
        "NUL in a search": (422, "validation_error"),
        "a year read as a Unix time": (422, "validation_error"),
        "a number as a day": (422, "validation_error"),
        "a number as as_of": (422, "validation_error"),
    }
    for res in cases.values():
        assert_error_shape(res)
