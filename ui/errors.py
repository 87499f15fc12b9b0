"""The web chat's errors in the API's one JSON shape: `{"error": {"code", "message", "details"}}`.

Chainlit's routes raise FastAPI's `HTTPException` (rendered as `{"detail": ...}` by default) and
let any other exception become a plain-text 500. `install_error_handlers` registers handlers on
Chainlit's own app (a process-wide singleton, mounted under `/ui`) so that every JSON error of
the web chat has the documented shape: 422 for bad input, 503 when the history database is
unreachable, and Chainlit's 400/401/403/404 with their status kept.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

from agent.errors import AppError

log = logging.getLogger(__name__)

# FastAPI's detail when the body could not be read (bytes that are not UTF-8)
_UNREADABLE_BODY = "There was an error parsing the body"
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    422: "invalid_request",
    429: "rate_limited",
}


class BodyTooLarge(Exception):
    """The request body grew past the limit while being read (raised by the API's gatekeeper,
    which wraps the web chat too, so both apps answer it with a 413)."""


def body_error(cause: BaseException | None) -> BaseException | None:
    """Why reading a body failed, out of the task groups a route may have wrapped it in."""
    while isinstance(cause, BaseExceptionGroup) and len(cause.exceptions) == 1:
        cause = cause.exceptions[0]
    return cause


def unreadable_body(cause: BaseException | None) -> tuple[str, str, dict[str, Any]]:
    """Why a JSON body could not be read: (reason, message, details) for the 422 answer.

    `json.loads` fails with RecursionError on nesting deeper than Python's recursion limit,
    ValueError past Python's limit on integer digits (`sys.get_int_max_str_digits()`), and
    UnicodeDecodeError on bytes that are not UTF-8 (or UTF-16/32 with its BOM).
    """
    if isinstance(cause, RecursionError):
        return "too_deep", "The request body is nested too deeply.", {}
    if isinstance(cause, UnicodeDecodeError):
        return (
            "not_utf8",
            f"The request body is not valid UTF-8 (byte {cause.start}).",
            {"position": cause.start},
        )
    if isinstance(cause, ValueError) and "integer string conversion" in str(cause):
        limit = sys.get_int_max_str_digits()
        return (
            "integer_too_large",
            f"An integer in the request body has more than {limit} digits.",
            {"max_digits": limit},
        )
    return "unreadable", "The request body could not be read as JSON.", {}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The documented error shape (the same as the API's)."""
    return {"error": {"code": code, "message": message, "details": details}}


def error_json(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A JSON response with the documented error shape."""
    return JSONResponse(
        status_code=status, content=error_body(code, message, details), headers=dict(headers or {})
    )


async def send_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Answer an HTTP request from a pure ASGI middleware with the documented error shape."""
    body = json.dumps(error_body(code, message)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"field": ".".join(str(part) for part in err.get("loc", ())), "message": err.get("msg")}
        for err in exc.errors()
    ]
    return error_json(422, "validation_error", "The request is not valid.", details)


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    """A project error by the status, code and message it carries (`agent.errors`)."""
    assert isinstance(exc, AppError)
    if exc.logged:
        log.error("%s: %s", exc.code, exc)
    return error_json(exc.status, exc.code, exc.message, exc.details)


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == _UNREADABLE_BODY:
        if isinstance(body_error(exc.__cause__), BodyTooLarge):
            return error_json(413, "body_too_large", "The request body is too large.")
        reason, message, details = unreadable_body(body_error(exc.__cause__))
        return error_json(422, "invalid_body", message, {"reason": reason, **details})
    code = _CODES.get(exc.status_code, "http_error")
    return error_json(exc.status_code, code, str(exc.detail), headers=exc.headers)


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled web chat error", exc_info=exc)
    return error_json(500, "internal_error", "Something went wrong on our side.")


def install_error_handlers(app: FastAPI) -> None:
    """Render every error of `app` (Chainlit's app) in the documented shape."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
    app.middleware_stack = None  # rebuilt with these handlers on the next request
