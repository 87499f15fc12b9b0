"""The REST contract as the app declares it: every JSON route documents its answer."""

from __future__ import annotations

from agent.settings import load_settings
from api.main import create_app
from tests.helpers import api_routes

# not JSON: server-sent events, Prometheus text, Telegram's webhook (answered with an empty 200)
NOT_JSON = {"/chat/stream", "/metrics", "/telegram/webhook"}


def test_every_json_route_has_a_response_model() -> None:
    app = create_app(load_settings(_env_file=None))
    documented = [r for r in api_routes(app.routes) if r.include_in_schema]
    assert len(documented) > 15
    missing = sorted(r.path for r in documented if r.response_model is None)
    assert set(missing) <= NOT_JSON, missing
    schema = app.openapi()
    for path in ("/forecast", "/model-metrics/{symbol}", "/sentiment-trend/{symbol}"):
        operation = next(iter(schema["paths"][path].values()))
        assert "$ref" in str(operation["responses"]["200"]["content"]), path
