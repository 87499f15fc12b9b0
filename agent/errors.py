"""Errors raised by the agent's services, on top of those of `knowledge` and `tools`.

Front-ends map each class to a status: NotFound 404, InvalidRequest 422, Unavailable 503.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base class for errors raised by `agent` services."""


class InvalidRequestError(ServiceError):
    """The request is well-formed but asks for something impossible (e.g. start after end)."""


class NotFoundError(ServiceError):
    """The thing asked for does not exist (no stored data for the range, no such job)."""


class ModelNotTrainedError(ServiceError):
    """No champion model for the symbol yet (409: the message names the command to train one)."""


class ModelUnavailableError(ServiceError):
    """The champion's artifact is missing or corrupt (503); the registry is left unchanged."""


# The store's and engines' errors are part of the agent's public surface, so front-ends translate them
# without importing `knowledge` or `tools` themselves.
from knowledge.errors import (  # noqa: E402
    DatabaseUnavailableError,
    DataValidationError,
    KnowledgeError,
    MigrationError,
    NoDataError,
    ProviderError,
    UnknownSymbolError,
)
from tools.errors import (  # noqa: E402
    ChartRenderError,
    InsufficientDataError,
    InvalidBarsError,
    ToolError,
    UnknownIndicatorError,
)

__all__ = [
    "ChartRenderError",
    "DataValidationError",
    "DatabaseUnavailableError",
    "InsufficientDataError",
    "InvalidBarsError",
    "InvalidRequestError",
    "KnowledgeError",
    "MigrationError",
    "ModelNotTrainedError",
    "ModelUnavailableError",
    "NoDataError",
    "NotFoundError",
    "ProviderError",
    "ServiceError",
    "ToolError",
    "UnknownIndicatorError",
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
