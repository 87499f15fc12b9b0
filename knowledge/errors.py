"""The project's one error root, its groups by what the caller should do, and the memory floor's
own errors (database, cache, market data).

Every error the project raises on purpose is an `AppError` and carries its HTTP status, a
stable `code` and the message a user may see (`message`: the exception text, or a fixed
sentence where the text is a server detail). Front-ends translate by those attributes, one
table each, never by a chain of classes. The layers add their own bases (`KnowledgeError` here,
`ToolError` in `tools.errors`, `ServiceError` in `agent.errors`) so code can still catch "any
store error"; the status comes from the group, listed first in each class's bases.

    AppError                                500 internal_error   (the exception text is hidden)
    ├── RequestError                        422 fix the request
    │   ├── DataValidationError             422 invalid_data (problems by line)
    │   │   └── as_of.DateOutOfRangeError   422 date_out_of_range
    │   ├── tools: UnknownIndicatorError    422 unknown_indicator
    │   ├── tools: UnknownRuleError         422 unknown_rule
    │   ├── tools: InsufficientDataError    422 insufficient_data
    │   └── agent: InvalidRequestError      422 invalid_request
    ├── MissingError                        404 nothing there
    │   ├── UnknownSymbolError              404 unknown_symbol (the supported symbols)
    │   ├── NoDataError                     404 no_data
    │   └── agent: NotFoundError            404 not_found
    ├── ConflictError                       409 not in that state yet
    │   └── agent: ModelNotTrainedError     409 model_not_trained
    ├── UnavailableError                    503 try again later
    │   ├── DatabaseUnavailableError        503 database_unavailable
    │   ├── tools: ChartRenderError         503 chart_unavailable
    │   ├── agent: ModelUnavailableError    503 model_unavailable
    │   └── agent: LanguageModelError       503 language_model_unavailable (ModelOutputError)
    ├── KnowledgeError                      500 store_error (Configuration, Migration, Provider)
    ├── tools: ToolError                    500 engine_error (InvalidBars, ModelArtifact)
    └── agent: ServiceError                 500 internal_error
"""

from __future__ import annotations

from typing import Any, ClassVar


class AppError(Exception):
    """Root of every error the project raises on purpose; a server fault unless a group says
    otherwise."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    #: shown instead of the exception text (None: the text is written for the user)
    public: ClassVar[str | None] = "Something went wrong on our side."
    #: whether a front-end logs it as an error (server faults), not just answers it
    logged: ClassVar[bool] = True

    @property
    def message(self) -> str:
        """What a user may read."""
        return self.public if self.public is not None else str(self)

    @property
    def details(self) -> Any:
        """Structured details for the error body (None when there are none)."""
        return None


class RequestError(AppError):
    """The request asks for something that cannot be done as asked: change it (422)."""

    status = 422
    code = "invalid_request"
    public: ClassVar[str | None] = None
    logged: ClassVar[bool] = False


class MissingError(AppError):
    """The thing asked for does not exist (404)."""

    status = 404
    code = "not_found"
    public: ClassVar[str | None] = None
    logged: ClassVar[bool] = False


class ConflictError(AppError):
    """The thing exists but is not in a state to answer yet (409): the message says what to do."""

    status = 409
    code = "conflict"
    public: ClassVar[str | None] = None
    logged: ClassVar[bool] = False


class UnavailableError(AppError):
    """A dependency is down or broken right now: try again later (503)."""

    status = 503
    code = "unavailable"
    public: ClassVar[str | None] = None


class KnowledgeError(AppError):
    """Base class for every error raised by `knowledge`."""

    code = "store_error"
    public: ClassVar[str | None] = "The data store could not answer this request."


class ConfigurationError(KnowledgeError):
    """A setting handed to `knowledge` cannot be used (bad URL, missing folder)."""


class DatabaseUnavailableError(UnavailableError, KnowledgeError):
    """Postgres cannot be reached or did not answer in time."""

    code = "database_unavailable"
    public: ClassVar[str | None] = "The database is unavailable; try again soon."
    logged: ClassVar[bool] = False


class MigrationError(KnowledgeError):
    """A migration file failed to apply; the transaction was rolled back."""


class UnknownSymbolError(MissingError, KnowledgeError):
    """A symbol (or alias) that is not in the catalogue."""

    code = "unknown_symbol"

    def __init__(self, given: str, supported: list[str]) -> None:
        self.given = given
        self.supported = supported
        super().__init__(f"Unknown symbol {given!r}. Supported: {', '.join(supported)}")

    @property
    def details(self) -> Any:
        return {"supported": self.supported}


class DataValidationError(RequestError, KnowledgeError):
    """Input data breaks a rule (non-positive price, high < low, duplicate timestamp...).

    `problems` lists `(line, message)` pairs; `source` names the file when there is one.
    """

    code = "invalid_data"

    def __init__(self, source: str, problems: list[tuple[int, str]]) -> None:
        self.source = source
        self.problems = problems
        shown = "; ".join(f"line {line}: {msg}" for line, msg in problems[:10])
        more = f" (+{len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(f"{source}: {len(problems)} bad row(s): {shown}{more}")

    @property
    def details(self) -> Any:
        return [{"line": line, "message": msg} for line, msg in self.problems]


class NoDataError(MissingError, KnowledgeError):
    """No stored bars for the request (symbol known, but nothing loaded for that range)."""

    code = "no_data"


class ProviderError(KnowledgeError):
    """A market-data provider failed after its retries (network, rate limit, bad answer)."""
