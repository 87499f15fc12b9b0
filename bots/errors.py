"""The bot's words for the project's errors (and the apology for the rest): one lookup by the
error's stable code (`agent.errors.AppError`), then a sentence by its group."""

from __future__ import annotations

from collections.abc import Callable

from agent.errors import AppError, ConflictError, MissingError, RequestError, UnavailableError
from bots.formatting import escape, short_symbol

APOLOGY = "Sorry, something went wrong on my side. Please try again in a moment."
"""What the user sees for any error that is not one of the known ones below."""


def _first_sentence(message: str) -> str:
    head = message.strip().split(". ")[0].rstrip(".")
    return head[:1].lower() + head[1:] if head[:2] != head[:2].upper() else head


def _unknown_coin(error: AppError) -> str:
    given = getattr(error, "given", "")
    coins = ", ".join(short_symbol(s) for s in getattr(error, "supported", []))
    return f"I don't know the coin “{escape(given)}”. Try one of: {escape(coins)}."


def _unknown_indicator(error: AppError) -> str:
    return f"I don't know that indicator. Valid ones: {escape(', '.join(getattr(error, 'valid', [])))}."


def _no_data(error: AppError) -> str:
    return f"Sorry, I have no data for that: {escape(_first_sentence(error.message))}."


WORDS: dict[str, Callable[[AppError], str]] = {
    "unknown_symbol": _unknown_coin,
    "unknown_indicator": _unknown_indicator,
    "not_found": _no_data,
    "no_data": _no_data,
    "insufficient_data": lambda e: (
        f"There is not enough data for that yet: {escape(_first_sentence(e.message))}."
    ),
    "chart_unavailable": lambda e: (
        "I can't draw charts right now. /ta gives the same analysis as text."
    ),
    "database_unavailable": lambda e: (
        "My data store is unavailable right now. Please try again in a minute."
    ),
}
"""Stable error code -> the bot's reply (HTML), for the errors with words of their own."""


def describe_error(error: BaseException | None) -> str | None:
    """A short, specific HTML reply for a project error; None for anything else (an apology)."""
    if not isinstance(error, AppError):
        return None
    words = WORDS.get(error.code)
    if words is not None:
        return words(error)
    if isinstance(error, RequestError | ConflictError):
        return f"Sorry, I can't do that: {escape(error.message.rstrip('.'))}."
    if isinstance(error, MissingError):
        return _no_data(error)
    if isinstance(error, UnavailableError):
        return f"{escape(error.message.rstrip('.'))}. Please try again in a minute."
    return None
