"""The bot's words for the errors the agent's services raise (and the apology for the rest)."""

from __future__ import annotations

from agent.errors import (
    ChartRenderError,
    DatabaseUnavailableError,
    InsufficientDataError,
    InvalidRequestError,
    NoDataError,
    NotFoundError,
    UnknownIndicatorError,
    UnknownSymbolError,
)
from bots.formatting import escape, short_symbol

APOLOGY = "Sorry, something went wrong on my side. Please try again in a moment."
"""What the user sees for any error that is not one of the known ones below."""


def _first_sentence(message: str) -> str:
    head = message.strip().split(". ")[0].rstrip(".")
    return head[:1].lower() + head[1:] if head[:2] != head[:2].upper() else head


def describe_error(error: BaseException | None) -> str | None:
    """A short, specific HTML reply for a known service error; None for anything else."""
    if isinstance(error, UnknownSymbolError):
        coins = ", ".join(short_symbol(s) for s in error.supported)
        return f"I don't know the coin “{escape(error.given)}”. Try one of: {escape(coins)}."
    if isinstance(error, NotFoundError | NoDataError):
        return f"Sorry, I have no data for that: {escape(_first_sentence(str(error)))}."
    if isinstance(error, InsufficientDataError):
        return f"There is not enough data for that yet: {escape(_first_sentence(str(error)))}."
    if isinstance(error, UnknownIndicatorError):
        return f"I don't know that indicator. Valid ones: {escape(', '.join(error.valid))}."
    if isinstance(error, InvalidRequestError):
        return f"Sorry, I can't do that: {escape(str(error).rstrip('.'))}."
    if isinstance(error, ChartRenderError):
        return "I can't draw charts right now. /ta gives the same analysis as text."
    if isinstance(error, DatabaseUnavailableError):
        return "My data store is unavailable right now. Please try again in a minute."
    return None
