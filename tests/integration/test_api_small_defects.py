"""Small API defects (issue 14, defect 11), each test named after the behaviour it pins down.

HEAD on the root and the health check, JSON booleans refused where a number is expected, a
body that cannot be read said to be what it is (too deep, an integer too long, not UTF-8, not
JSON at a position), and the build details of /system-status kept for the admin.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.factories import synthetic_bars
from tests.helpers import assert_error_shape

pytestmark = pytest.mark.integration

ADMIN_KEY = "small-defects-admin-key-51c2"
JSON = {"content-type": "application/json"}
BARS = synthetic_bars(300, seed=7)


@pytest.fixture
def api(app_factory: Callable[..., TestClient]) -> TestClient:
    return app_factory(bars=BARS, admin_api_key=ADMIN_KEY)


def _invalid_body(res: object, reason: str) -> dict[str, object]:
    assert_error_shape(res)  # type: ignore[arg-type]
    body = res.json()  # type: ignore[attr-defined]
    assert res.status_code == 422, body  # type: ignore[attr-defined]
    assert body["error"]["code"] == "invalid_body", body
    assert body["error"]["details"]["reason"] == reason, body
    assert "UTF-8 JSON" not in body["error"]["message"]
    return dict(body["error"])


def test_head_on_health_and_root_answers_200_without_a_body(api: TestClient) -> None:
    for path in ("/", "/health"):
        res = api.head(path)
        assert res.status_code == 200, path
        assert res.content == b""
    assert api.get("/health").status_code == 200  # GET unchanged
    methods = [e.split()[0] for e in api.get("/").json()["endpoints"]]
    assert "HEAD" not in methods  # not listed as operations of their own


def test_a_boolean_or_string_horizon_is_refused_not_read_as_a_number(api: TestClient) -> None:
    for horizon in (True, False, "7", 7.5):
        res = api.post("/forecast", json={"symbol": "BTC-USD", "horizon_days": horizon})
        assert res.status_code == 422, (horizon, res.json())
        assert res.json()["error"]["details"][0]["field"] == "body.horizon_days"
    fine = api.post("/forecast", json={"symbol": "BTC-USD", "horizon_days": 7})
    assert fine.status_code == 409  # valid input: no model trained yet


def test_boolean_or_string_indicator_params_are_refused(api: TestClient) -> None:
    for params in ({"rsi_period": True}, {"bb_std": "2"}, {"sma_periods": [20, True, 200]}):
        res = api.post("/technical", json={"symbol": "BTC-USD", "params": params})
        assert res.status_code == 422, (params, res.json())
        assert res.json()["error"]["details"][0]["field"] == "body.params"
    fine = api.post(
        "/technical", json={"symbol": "BTC-USD", "params": {"rsi_period": 10, "bb_std": 2}}
    )
    assert fine.status_code == 200, fine.json()


def test_a_query_number_given_as_text_still_works(api: TestClient) -> None:
    res = api.get("/knowledge/search", params={"q": "bitcoin", "k": "3"})
    assert res.status_code == 200
    assert api.get("/knowledge/search", params={"q": "bitcoin", "k": "true"}).status_code == 422


def test_a_too_deeply_nested_body_is_said_to_be_too_deep(api: TestClient) -> None:
    depth = sys.getrecursionlimit() + 100
    body = b'{"symbol": "BTC-USD", "params": ' + b"[" * depth + b"]" * depth + b"}"
    error = _invalid_body(api.post("/technical", content=body, headers=JSON), "too_deep")
    assert "nested too deeply" in str(error["message"])


def test_an_integer_with_too_many_digits_is_said_to_be_too_large(api: TestClient) -> None:
    digits = sys.get_int_max_str_digits() + 1
    body = b'{"symbol": "BTC-USD", "horizon_days": ' + b"9" * digits + b"}"
    error = _invalid_body(api.post("/forecast", content=body, headers=JSON), "integer_too_large")
    assert f"more than {digits - 1} digits" in str(error["message"])


def test_bytes_that_are_not_utf8_are_said_to_be_so_with_their_position(api: TestClient) -> None:
    body = b'{"symbol": "\xff\xfe"}'
    error = _invalid_body(api.post("/technical", content=body, headers=JSON), "not_utf8")
    assert error["details"] == {"reason": "not_utf8", "position": 12}
    assert "not valid UTF-8 (byte 12)" in str(error["message"])


def test_malformed_json_is_said_to_be_so_with_its_position(api: TestClient) -> None:
    body = b'{"symbol": "BTC-USD",, }'
    error = _invalid_body(api.post("/technical", content=body, headers=JSON), "malformed_json")
    assert error["details"] == {
        "reason": "malformed_json",
        "position": 21,
        "error": "Expecting property name enclosed in double quotes",
    }
    assert "not valid JSON" in str(error["message"]) and "at position 21" in str(error["message"])


def test_system_status_shows_library_versions_only_with_the_admin_key(api: TestClient) -> None:
    anonymous = api.get("/system-status")
    wrong = api.get("/system-status", headers={"X-API-Key": "not-the-key"})
    admin = api.get("/system-status", headers={"X-API-Key": ADMIN_KEY})
    for res in (anonymous, wrong, admin):
        assert res.status_code == 200
        body = res.json()
        # the health summary is public
        assert body["uptime_seconds"] >= 0 and "requests" in body and "data" in body
        assert body["versions"]["app"] == "0.1.0"  # public anyway on / and /openapi.json
    for hidden in (anonymous.json(), wrong.json()):
        assert set(hidden["versions"]) == {"app"}
        assert "rate_limiter" not in hidden and "backend" not in hidden["cache"]
        assert sys.version.split()[0] not in anonymous.text
    shown = admin.json()
    assert shown["versions"]["python"] == sys.version.split()[0]
    assert shown["versions"]["fastapi"] and shown["versions"]["pandas"]
    assert shown["cache"]["backend"] and shown["rate_limiter"]["backend"]
