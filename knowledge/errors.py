"""Errors raised by the memory floor (database, cache, market data).

Front-ends translate them: `UnknownSymbolError` -> 404, `DataValidationError` -> 422,
`DatabaseUnavailableError` -> 503, `NoDataError` -> 404 with a message saying data is missing.
"""

from __future__ import annotations


class KnowledgeError(Exception):
    """Base class for every error raised by `knowledge`."""


class ConfigurationError(KnowledgeError):
    """A setting handed to `knowledge` cannot be used (bad URL, missing folder)."""


class DatabaseUnavailableError(KnowledgeError):
    """Postgres cannot be reached or did not answer in time."""


class MigrationError(KnowledgeError):
    """A migration file failed to apply; the transaction was rolled back."""


class UnknownSymbolError(KnowledgeError):
    """A symbol (or alias) that is not in the catalogue."""

    def __init__(self, given: str, supported: list[str]) -> None:
        self.given = given
        self.supported = supported
        super().__init__(f"Unknown symbol {given!r}. Supported: {', '.join(supported)}")


class DataValidationError(KnowledgeError):
    """Input data breaks a rule (non-positive price, high < low, duplicate timestamp...).

    `problems` lists `(line, message)` pairs; `source` names the file when there is one.
    """

    def __init__(self, source: str, problems: list[tuple[int, str]]) -> None:
        self.source = source
        self.problems = problems
        shown = "; ".join(f"line {line}: {msg}" for line, msg in problems[:10])
        more = f" (+{len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(f"{source}: {len(problems)} bad row(s): {shown}{more}")


class NoDataError(KnowledgeError):
    """No stored bars for the request (symbol known, but nothing loaded for that range)."""


class ProviderError(KnowledgeError):
    """A market-data provider failed after its retries (network, rate limit, bad answer)."""
