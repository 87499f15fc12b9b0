"""One JSON shape for every error: `{"error": {"code", "message", "details"}}`.

Maps the service and store exceptions to HTTP statuses so no route handles them itself.
"""

from __future__ import annotations

import logging
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

log = logging.getLogger(__name__)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The documented error shape."""
    return {"error": {"code": code, "message": message, "details": details}}


def _json(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=error_body(code, message, details))


def install_error_handlers(app: FastAPI) -> None:
    """Register the exception-to-status mapping on the app."""

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
        details = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
            for err in exc.errors()
        ]
        return _json(422, "validation_error", "The request is not valid.", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _json(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return _json(500, "internal_error", "Something went wrong on our side.")
