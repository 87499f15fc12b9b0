"""Plain helpers shared by test modules (test modules never import from each other).

Fixtures live in the conftest files; this module holds what tests call directly: the CLI
runner, the database snapshot, the error-shape check and the job poller.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import psycopg
from typer.testing import CliRunner

if TYPE_CHECKING:
    from fastapi.testclient import TestClient
    from httpx2 import Response  # what the Starlette test client returns

#: One Typer runner for every CLI test (it keeps no state between invocations).
runner = CliRunner()

_TABLES = (
    "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables "
    "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"
)


def snapshot(url: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and an md5 of all its rows: equal snapshots, equal data.

    Keys are `schema.table`; an empty table hashes to "".
    """
    with psycopg.connect(url, autocommit=True) as conn:
        names = sorted(row[0] for row in conn.execute(_TABLES))
        return {
            name: conn.execute(  # type: ignore[misc]
                f"SELECT count(*), coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') "
                f"FROM {name} x"
            ).fetchone()
            for name in names
        }


def assert_error_shape(response: Response) -> None:
    """A 4xx/5xx body is exactly `{"error": {"code", "message", "details"}}` as JSON."""
    assert response.headers.get("content-type", "").startswith("application/json"), (
        f"{response.status_code} error is not JSON: {response.headers.get('content-type')}"
    )
    body = json.loads(response.content)
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, body
    assert isinstance(error["code"], str) and error["code"], body
    assert isinstance(error["message"], str) and error["message"], body


def wait_job(client: TestClient, url: str, key: str, limit: float = 60.0) -> dict[str, Any]:
    """Poll an admin job's status URL until it succeeded or failed; its last JSON body.

    Fails the test when the job is still queued or running after `limit` seconds.
    """
    deadline = time.monotonic() + limit
    while True:
        res = client.get(url, headers={"X-API-Key": key})
        job: dict[str, Any] = res.json()
        if res.status_code == 200 and job["status"] in ("succeeded", "failed"):
            return job
        if time.monotonic() >= deadline:
            raise AssertionError(f"job {url} did not finish in {limit}s: {job}")
        time.sleep(0.5)  # under the data routes' rate limit however long the job takes


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    """A call's result and how long it took, in seconds."""
    began = time.monotonic()
    res = call()
    return res, time.monotonic() - began


def api_routes(routes: list[Any]) -> Iterator[Any]:
    """Every FastAPI route of an app, also those of included routers."""
    from fastapi.routing import APIRoute

    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # FastAPI's included routers
            yield from api_routes(route.original_router.routes)


@contextmanager
def running_worker(services: Any, *, start_up: bool = False) -> Iterator[None]:
    """A job worker on `services` in a thread with its own event loop, stopped (running jobs
    finished) on exit: what `crypto-assistant worker` does, inside the test process."""
    import asyncio
    import threading

    from agent.services.worker import run_worker

    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    failure: list[BaseException] = []

    def main() -> None:
        try:
            loop.run_until_complete(run_worker(services, stop=stop, start_up=start_up))
        except BaseException as exc:  # surfaced in the test below
            failure.append(exc)
        finally:
            loop.close()

    thread = threading.Thread(target=main, name="test-worker", daemon=True)
    thread.start()
    try:
        yield
    finally:
        if not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=120)
    assert not failure, f"the worker stopped with {failure[0]!r}"


def until(check: Callable[[], Any], limit: float, what: str, every: float = 0.25) -> Any:
    """Poll `check` until it returns something truthy (returned); fail naming `what` after
    `limit` seconds."""
    deadline = time.monotonic() + limit
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {limit:g} s")
        time.sleep(every)
    return value
