"""Errors raised by the agent's services, under the project's one root (`knowledge.errors`
draws the whole tree); with the store's and engines' errors re-exported, the one place front-ends
import them from.

Each class carries its HTTP status, stable code and user-worded message (`AppError`), so a
front-end translates with one table: `api/errors.py` (JSON), `bots/errors.py` (Telegram),
`ui/errors.py` (the web chat's routes).
"""

from __future__ import annotations

# The store's and engines' errors are part of the agent's public surface, so front-ends
# translate them without importing `knowledge` or `tools` themselves.
from knowledge.errors import (
    AppError,
    ConflictError,
    DatabaseUnavailableError,
    DataValidationError,
    KnowledgeError,
    MigrationError,
    MissingError,
    NoDataError,
    ProviderError,
    RequestError,
    UnavailableError,
    UnknownSymbolError,
)
from tools.errors import (
    ChartRenderError,
    InsufficientDataError,
    InvalidBarsError,
    ToolError,
    UnknownIndicatorError,
    UnknownRuleError,
)


class ServiceError(AppError):
    """Base class for errors raised by `agent` services."""


class InvalidRequestError(RequestError, ServiceError):
    """The request is well-formed but asks for something impossible (e.g. start after end)."""

    code = "invalid_request"


class NotFoundError(MissingError, ServiceError):
    """The thing asked for does not exist (no stored data for the range, no such job)."""

    code = "not_found"


class ModelNotTrainedError(ConflictError, ServiceError):
    """No champion model for the symbol yet (409: the message names the command to train one)."""

    code = "model_not_trained"


class JobStateError(ConflictError, ServiceError):
    """A job cannot do what was asked in its state (409), e.g. retrying one that succeeded."""

    code = "job_state"


class ModelUnavailableError(UnavailableError, ServiceError):
    """The champion's artifact is missing or corrupt (503); the registry is left unchanged. The
    message names the problem without server paths, so it is shown."""

    code = "model_unavailable"


class LanguageModelError(UnavailableError, ServiceError):
    """The configured language model cannot be used: a local model whose server does not start,
    a provider that cannot be built. The chat then runs keyless and says so."""

    code = "language_model_unavailable"


class ModelOutputError(LanguageModelError):
    """The model's routing reply is not the JSON the tool schema asks for (a provider that
    ignored the constrained format); the turn falls back to the keyless planner."""

    code = "model_output_invalid"


__all__ = [
    "AppError",
    "ChartRenderError",
    "ConflictError",
    "DataValidationError",
    "DatabaseUnavailableError",
    "InsufficientDataError",
    "InvalidBarsError",
    "InvalidRequestError",
    "JobStateError",
    "KnowledgeError",
    "LanguageModelError",
    "MigrationError",
    "MissingError",
    "ModelNotTrainedError",
    "ModelOutputError",
    "ModelUnavailableError",
    "NoDataError",
    "NotFoundError",
    "ProviderError",
    "RequestError",
    "ServiceError",
    "ToolError",
    "UnavailableError",
    "UnknownIndicatorError",
    "UnknownRuleError",
    "UnknownSymbolError",
    "no_data_error",
]


def no_data_error(symbol: str, interval: str, where: str = "") -> NotFoundError:
    """The 404 for a series with no stored bars (`where`: " in that range", ...), naming the
    commands that load some."""
    return NotFoundError(
        f"No {interval} data stored for {symbol}{where}. Load some with "
        "`crypto-assistant data import FILE` or `crypto-assistant data refresh`."
    )
