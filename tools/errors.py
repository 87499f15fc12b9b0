"""Errors raised by the engines in `tools`.

Front-ends map them to answers: `UnknownIndicatorError` and `InvalidBarsError` are caller
mistakes (422), `InsufficientDataError` means the data cannot support the request (404/422 with
the message), `ChartRenderError` is a server-side rendering failure (500/503).
"""

from __future__ import annotations

from collections.abc import Iterable


class ToolError(Exception):
    """Base class for every error raised by an engine in `tools`."""


class UnknownIndicatorError(ToolError):
    """One or more requested indicator names are not known; the message lists the valid ones."""

    def __init__(self, unknown: Iterable[str], valid: Iterable[str]) -> None:
        self.unknown: list[str] = list(unknown)
        self.valid: list[str] = list(valid)
        super().__init__(
            f"Unknown indicator(s): {', '.join(self.unknown)}. Valid: {', '.join(self.valid)}"
        )


class InsufficientDataError(ToolError):
    """There are not enough bars (e.g. none at or before `as_of`) to compute anything."""


class InvalidBarsError(ToolError):
    """The OHLCV frame breaks the input contract (missing columns, unsorted index, NaN...)."""


class ChartRenderError(ToolError):
    """A chart could not be exported (no headless browser for kaleido, export failed)."""


class ModelArtifactError(ToolError):
    """A saved forecasting model is missing, incomplete or corrupt (or produces non-finite
    output); the message names the folder and the file at fault."""
