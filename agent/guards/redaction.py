"""Secrets out of everything the assistant shows or sends: answers, tool calls, LangSmith traces
and log lines.

`settings_secrets` lists the configured secret values; `Redactor` replaces them, plus anything
shaped like a key, a token or a URL's password, in text and in JSON-like payloads.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from agent.settings import Settings

REDACTED = "[redacted]"
_SECRET_KEY = re.compile(
    r"(api[_-]?key|(^|_)token$|secret|password|passwd|authorization|cookie)", re.I
)
# OpenAI and LangSmith keys, Telegram bot tokens (also inside a Bot API URL: .../bot<token>/)
_SECRET_VALUE = re.compile(
    r"\b(sk-[A-Za-z0-9_\-]{8,}|lsv2_[A-Za-z0-9_]{8,})|(?<!\d)\d{6,}:[A-Za-z0-9_\-]{20,}"
)
# the password of a URL (postgresql://user:pw@host, redis://:pw@host)
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^:/@\s]*:)[^@\s/]+@", re.I)
# a secret-named field written out as text: 'secret_token': 'x', api_key=x, "password": "x"
_SECRET_FIELD = re.compile(
    r"""(["']?[\w-]*(?:api[_-]?key|token|secret|password|passwd)["']?\s*[:=]\s*["']?)"""
    r"""([^"'\s,;}&]+)""",
    re.I,
)


def settings_secrets(settings: Settings) -> list[str]:
    """Every secret value in the settings (API keys, tokens, passwords inside URLs)."""
    found: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if hasattr(value, "get_secret_value"):
            secret = value.get_secret_value()
            if secret:
                found.append(secret)
                password = re.search(r"://[^:/@]+:([^@]+)@", secret)
                if password:
                    found.append(password.group(1))
    return sorted(set(found), key=len, reverse=True)


class Redactor:
    """Deep-copies a payload with secrets replaced; safe on any JSON-like structure."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = [s for s in secrets if len(s) >= 4]

    def text(self, value: str, fields: bool = True) -> str:
        """`value` with secrets replaced; `fields`: also values of secret-named fields."""
        for secret in self.secrets:
            value = value.replace(secret, REDACTED)
        value = _URL_PASSWORD.sub(rf"\1{REDACTED}@", value)
        if fields:
            value = _SECRET_FIELD.sub(lambda m: m.group(1) + REDACTED, value)
        return _SECRET_VALUE.sub(REDACTED, value)

    def prose(self, value: str) -> str:
        """For answers: secrets replaced, but words such as "token: UNI" left alone."""
        return self.text(value, fields=False)

    def values(self, payload: Any) -> Any:
        """A copy of a JSON-like payload with the configured secret values replaced (only them)."""
        if isinstance(payload, str):
            for secret in self.secrets:
                payload = payload.replace(secret, REDACTED)
            return payload
        if isinstance(payload, dict):
            return {self.values(k): self.values(v) for k, v in payload.items()}
        if isinstance(payload, list | tuple):
            return [self.values(v) for v in payload]
        return payload

    def __call__(self, payload: Any) -> Any:
        if isinstance(payload, str):
            return self.text(payload)
        if isinstance(payload, dict):
            return {
                k: REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) else self(v)
                for k, v in payload.items()
            }
        if isinstance(payload, list | tuple):
            return [self(v) for v in payload]
        if isinstance(
            payload, BaseModel
        ):  # chat messages and other models: same type, clean fields
            return payload.model_copy(update={k: self(v) for k, v in payload.__dict__.items()})
        return payload
