"""One JSON shape for every error: `{"error": {"code", "message", "details"}}`.

Every project error (`agent.errors.AppError`, the tree is drawn in `knowledge/errors.py`)
carries its status, code and message, so one handler answers them all and no route handles
them itself; request validation, HTTP errors and anything unexpected have their own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from agent.errors import AppError
from api.schemas import ErrorResponse
from ui.errors import BodyTooLarge, body_error, unreadable_body

log = logging.getLogger(__name__)
# FastAPI's detail when reading the body failed for a reason other than malformed JSON text
# (bytes that are not UTF-8, or the gatekeeper stopping a body that grew past the limit).
_UNREADABLE_BODY = "There was an error parsing the body"
_ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorResponse"}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The documented error shape."""
    return {"error": {"code": code, "message": message, "details": details}}


def _json(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=error_body(code, message, details))


def _invalid_body(reason: str, message: str, details: dict[str, Any]) -> JSONResponse:
    return _json(422, "invalid_body", message, {"reason": reason, **details})


def _malformed_json(exc: RequestValidationError) -> JSONResponse | None:
    """Text that is not JSON (FastAPI's `json_invalid` error): say what and where."""
    errors = exc.errors()
    if len(errors) != 1 or errors[0].get("type") != "json_invalid":
        return None
    loc = errors[0].get("loc", ())
    position = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
    problem = str(errors[0].get("ctx", {}).get("error") or "malformed JSON")
    where = f" at position {position}" if position is not None else ""
    return _invalid_body(
        "malformed_json",
        f"The request body is not valid JSON: {problem}{where}.",
        {"position": position, "error": problem},
    )


def patch_openapi(app: FastAPI, patch: Callable[[dict[str, Any]], None]) -> None:
    """Let `patch` edit the app's OpenAPI document once, when it is first generated."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            patch(generate())
        return app.openapi_schema or generate()

    app.openapi = openapi  # type: ignore[method-assign]


def error_response(description: str) -> dict[str, Any]:
    """An OpenAPI response object whose body is the documented error shape."""
    return {"description": description, "content": {"application/json": {"schema": _ERROR_SCHEMA}}}


def _document_error_shape(schema: dict[str, Any]) -> None:
    """Every 4xx/5xx in the schema answers with `ErrorResponse`: FastAPI's default 422 body
    (`{"detail": [...]}`) is never sent, and bare entries such as `401: {}` name no body."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    model = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(model.pop("$defs", {}))
    components.setdefault("ErrorResponse", model)
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if not str(status).startswith(("4", "5")):
                    continue
                body = response.get("content", {}).get("application/json", {}).get("schema", {})
                if not body or body.get("$ref", "").endswith("/HTTPValidationError"):
                    response["content"] = {"application/json": {"schema": _ERROR_SCHEMA}}
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's, now unreferenced
        if f'"#/components/schemas/{unused}"' not in json.dumps(schema):
            components.pop(unused, None)


def install_error_handlers(app: FastAPI) -> None:
    """Register the exception-to-status mapping on the app (and document it in OpenAPI)."""
    patch_openapi(app, _document_error_shape)

    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        """Every project error by the status, code and message it carries (`agent.errors`)."""
        if exc.logged:
            log.error("%s: %s", exc.code, exc)
        return _json(exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        malformed = _malformed_json(exc)
        if malformed is not None:
            return malformed
        details = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
            for err in exc.errors()
        ]
        return _json(422, "validation_error", "The request is not valid.", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == _UNREADABLE_BODY:
            if isinstance(body_error(exc.__cause__), BodyTooLarge):
                return _json(413, "body_too_large", "The request body is too large.")
            return _invalid_body(*unreadable_body(body_error(exc.__cause__)))
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _json(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return _json(500, "internal_error", "Something went wrong on our side.")
