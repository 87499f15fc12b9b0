"""One JSON shape for every error: `{"error": {"code", "message", "details"}}`.

Maps the service and store exceptions to HTTP statuses so no route handles them itself.
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

from agent.errors import (
    ChartRenderError,
    DatabaseUnavailableError,
    DataValidationError,
    InsufficientDataError,
    InvalidRequestError,
    KnowledgeError,
    ModelNotTrainedError,
    ModelUnavailableError,
    NotFoundError,
    ToolError,
    UnknownIndicatorError,
    UnknownSymbolError,
)
from api.schemas import ErrorResponse
from ui.errors import unreadable_body

log = logging.getLogger(__name__)
# FastAPI's detail when reading the body failed for a reason other than malformed JSON text
# (bytes that are not UTF-8, or the gatekeeper stopping a body that grew past the limit).
_UNREADABLE_BODY = "There was an error parsing the body"
_ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorResponse"}


class BodyTooLarge(Exception):
    """The request body grew past the limit while being read (raised by the gatekeeper)."""


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

    @app.exception_handler(UnknownSymbolError)
    async def _unknown_symbol(_: Request, exc: UnknownSymbolError) -> JSONResponse:
        return _json(404, "unknown_symbol", str(exc), {"supported": exc.supported})

    @app.exception_handler(NotFoundError)
    async def _not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return _json(404, "not_found", str(exc))

    @app.exception_handler(ModelNotTrainedError)
    async def _no_model(_: Request, exc: ModelNotTrainedError) -> JSONResponse:
        return _json(409, "model_not_trained", str(exc))

    @app.exception_handler(ModelUnavailableError)
    async def _model_broken(_: Request, exc: ModelUnavailableError) -> JSONResponse:
        log.error("model unavailable: %s", exc)
        return _json(503, "model_unavailable", str(exc))

    @app.exception_handler(InvalidRequestError)
    async def _invalid(_: Request, exc: InvalidRequestError) -> JSONResponse:
        return _json(422, "invalid_request", str(exc))

    @app.exception_handler(DataValidationError)
    async def _bad_data(_: Request, exc: DataValidationError) -> JSONResponse:
        problems = [{"line": line, "message": msg} for line, msg in exc.problems]
        return _json(422, "invalid_data", str(exc), problems)

    @app.exception_handler(DatabaseUnavailableError)
    async def _db_down(_: Request, exc: DatabaseUnavailableError) -> JSONResponse:
        return _json(503, "database_unavailable", "The database is unavailable; try again soon.")

    @app.exception_handler(KnowledgeError)
    async def _store(_: Request, exc: KnowledgeError) -> JSONResponse:
        log.error("store error: %s", exc)
        return _json(500, "store_error", "The data store could not answer this request.")

    @app.exception_handler(UnknownIndicatorError)
    async def _unknown_indicator(_: Request, exc: UnknownIndicatorError) -> JSONResponse:
        return _json(
            422, "unknown_indicator", str(exc), {"unknown": exc.unknown, "valid": exc.valid}
        )

    @app.exception_handler(InsufficientDataError)
    async def _too_little(_: Request, exc: InsufficientDataError) -> JSONResponse:
        return _json(422, "insufficient_data", str(exc))

    @app.exception_handler(ChartRenderError)
    async def _chart(_: Request, exc: ChartRenderError) -> JSONResponse:
        log.error("chart rendering failed: %s", exc)
        return _json(503, "chart_unavailable", "Charts cannot be rendered right now.")

    @app.exception_handler(ToolError)
    async def _tool(_: Request, exc: ToolError) -> JSONResponse:
        log.error("engine error: %s", exc)
        return _json(500, "engine_error", "An analysis engine failed on this request.")

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
            if isinstance(exc.__cause__, BodyTooLarge):
                return _json(413, "body_too_large", "The request body is too large.")
            return _invalid_body(*unreadable_body(exc.__cause__))
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _json(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return _json(500, "internal_error", "Something went wrong on our side.")
