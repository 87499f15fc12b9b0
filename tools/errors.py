"""Errors raised by the engines in `tools`, under the project's one root (`knowledge.errors`,
which draws the whole tree).

`UnknownIndicatorError` and `InsufficientDataError` are caller mistakes or requests the data
cannot support (422); `ChartRenderError` is a rendering failure on our side (503); anything else
is an engine fault (500, its text hidden).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from knowledge.errors import AppError, RequestError, UnavailableError


class ToolError(AppError):
    """Base class for every error raised by an engine in `tools`."""

    code = "engine_error"
    public: ClassVar[str | None] = "An analysis engine failed on this request."


class UnknownIndicatorError(RequestError, ToolError):
    """One or more requested indicator names are not known; the message lists the valid ones."""

    code = "unknown_indicator"

    def __init__(self, unknown: Iterable[str], valid: Iterable[str]) -> None:
        self.unknown: list[str] = list(unknown)
        self.valid: list[str] = list(valid)
        super().__init__(
            f"Unknown indicator(s): {', '.join(self.unknown)}. Valid: {', '.join(self.valid)}"
        )

    @property
    def details(self) -> Any:
        return {"unknown": self.unknown, "valid": self.valid}


class InsufficientDataError(RequestError, ToolError):
    """There are not enough bars (e.g. none at or before `as_of`) to compute anything."""

    code = "insufficient_data"


class InvalidBarsError(ToolError):
    """The OHLCV frame breaks the input contract (missing columns, unsorted index, NaN...)."""


class ChartRenderError(UnavailableError, ToolError):
    """A chart could not be exported (no headless browser for kaleido, export failed)."""

    code = "chart_unavailable"
    public: ClassVar[str | None] = "Charts cannot be rendered right now."


class ModelArtifactError(ToolError):
    """A saved forecasting model is missing, incomplete or corrupt (or produces non-finite
    output); the message names the folder and the file at fault."""


class UnknownRuleError(RequestError, ToolError):
    """A backtest was asked for a rule the engine does not have; the message lists the valid ones."""

    code = "unknown_rule"

    def __init__(self, rule: str, valid: Iterable[str]) -> None:
        self.rule = rule
        self.valid: list[str] = list(valid)
        super().__init__(f"Unknown rule {rule!r}. Valid: {', '.join(self.valid)}")

    @property
    def details(self) -> Any:
        return {"unknown": self.rule, "valid": self.valid}
