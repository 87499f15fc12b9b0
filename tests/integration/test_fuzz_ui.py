"""Property-based fuzzing of the web chat's JSON routes (the Chainlit app mounted at /ui).

A logged-in browser calls these routes; here they get hostile bodies, paths and queries drawn by
hypothesis: NUL and other control characters, huge strings, wrong types, nested junk, bodies
that are not JSON. The promise checked, as for the API (`test_fuzz_api.py`): no answer is a
5xx, and every JSON error has the one documented shape `{"error": {"code", "message",
"details"}}`. Answers that are pages or files (the SPA fallback, assets) are not errors.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import assert_error_shape

pytestmark = [
    pytest.mark.integration,
    # the huge strings make hypothesis warn about its own long reprs
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning"),
]

EXAMPLES = 60
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Strings Postgres or JSON parsers trip on, besides hypothesis' own.
HOSTILE = st.sampled_from(["\x00", "a\x00b", "\x00" * 3, "%", "_", "\\", "' OR 1=1 --", "😀" * 50])
TEXT = st.one_of(st.text(max_size=40), HOSTILE, st.just("x" * 200_000))
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JUNK: st.SearchStrategy[Any] = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _field(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field that is usually plausible and sometimes junk."""
    return st.one_of(valid, JUNK)


THREADS_BODY = st.fixed_dictionaries(
    {
        "pagination": _field(
            st.fixed_dictionaries(
                {"first": _field(st.integers(-5, 500))},
                optional={"cursor": _field(TEXT)},
            )
        ),
        "filter": _field(
            st.fixed_dictionaries(
                {},
                optional={"search": _field(TEXT), "feedback": _field(st.integers(-(2**40), 2**40))},
            )
        ),
    }
)
THREAD_BODY = st.fixed_dictionaries({"threadId": _field(TEXT)}, optional={"name": _field(TEXT)})
FEEDBACK_BODY = st.fixed_dictionaries(
    {
        "feedback": _field(
            st.fixed_dictionaries(
                {"forId": _field(TEXT), "value": _field(st.integers(-3, 3))},
                optional={"comment": _field(TEXT), "id": _field(TEXT)},
            )
        )
    }
)
# (method, path, body strategy) of the JSON routes a logged-in browser calls
BODY_ROUTES = [
    ("POST", "/ui/project/threads", THREADS_BODY),
    ("PUT", "/ui/project/thread", THREAD_BODY),
    ("DELETE", "/ui/project/thread", THREAD_BODY),
    ("PUT", "/ui/feedback", FEEDBACK_BODY),
    ("DELETE", "/ui/feedback", st.fixed_dictionaries({"feedbackId": _field(TEXT)})),
    ("POST", "/ui/project/action", st.dictionaries(st.text(max_size=10), JUNK, max_size=4)),
    ("PUT", "/ui/project/element", st.dictionaries(st.text(max_size=10), JUNK, max_size=4)),
    ("POST", "/ui/auth/header", JUNK),
    ("POST", "/ui/logout", JUNK),
]
PATH_ROUTES = [
    "/ui/project/thread/{}",
    "/ui/project/share/{}",
    "/ui/project/thread/{}/element/{}",
    "/ui/stored-elements/{}",
]
QUERY_ROUTES = ["/ui/project/settings", "/ui/project/translations", "/ui/user", "/ui/auth/config"]
PAGE = {"Accept": "text/html"}


@pytest.fixture
def browser(app_factory: Callable[..., TestClient]) -> Iterator[TestClient]:
    """A test client logged in to the web chat as the local user, with one stored thread."""
    client = app_factory()
    client.get("/ui/", headers=PAGE)
    assert client.get("/ui/user").status_code == 200
    yield client


def _check(res: Any) -> None:
    assert res.status_code < 500, (res.request.method, res.request.url, res.text[:500])
    if res.status_code >= 400 and res.headers.get("content-type", "").startswith(
        "application/json"
    ):
        assert_error_shape(res)
    elif res.status_code >= 400:
        # a non-JSON error is only acceptable for routes that serve files or pages
        assert res.headers.get("content-type", "").startswith(("text/html", "image/")), (
            res.request.url,
            res.status_code,
            res.headers.get("content-type"),
            res.text[:300],
        )


@pytest.mark.parametrize(("method", "path", "body"), BODY_ROUTES, ids=lambda v: str(v)[:30])
def test_json_routes_survive_hostile_bodies(
    browser: TestClient, method: str, path: str, body: st.SearchStrategy[Any]
) -> None:
    @FUZZ
    @given(payload=body)
    def run(payload: Any) -> None:
        _check(browser.request(method, path, json=payload))

    run()


@FUZZ
@given(raw=st.one_of(st.binary(max_size=300), st.just(b"\xff\xfe{"), st.just(b'{"a":' * 500)))
def test_thread_listing_survives_bodies_that_are_not_json(browser: TestClient, raw: bytes) -> None:
    res = browser.post(
        "/ui/project/threads", content=raw, headers={"content-type": "application/json"}
    )
    _check(res)


@FUZZ
@given(route=st.sampled_from(PATH_ROUTES), first=TEXT, second=TEXT)
def test_path_routes_survive_hostile_ids(
    browser: TestClient, route: str, first: str, second: str
) -> None:
    ids = [quote(part[:2000], safe="") or "x" for part in (first, second)]
    _check(browser.get(route.format(*ids[: route.count("{}")])))


@FUZZ
@given(route=st.sampled_from(QUERY_ROUTES), params=st.dictionaries(st.text(max_size=10), TEXT))
def test_query_routes_survive_hostile_parameters(
    browser: TestClient, route: str, params: dict[str, str]
) -> None:
    short = {key: value[:2000] for key, value in params.items()}
    _check(browser.get(route, params=short))


def test_the_fuzz_reaches_the_data_layer(browser: TestClient) -> None:
    """The bodies above are not all refused before the database: valid ones are answered."""
    res = browser.post(
        "/ui/project/threads",
        content=json.dumps({"pagination": {"first": 5, "cursor": "x"}, "filter": {"search": "%"}}),
        headers={"content-type": "application/json"},
    )
    assert res.status_code == 200 and res.json()["data"] == []
