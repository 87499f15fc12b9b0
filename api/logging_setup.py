"""Process logging: one JSON object per line (or plain text), carrying the request id.

Every line passes through `SecretFilter` first: configured secrets and secret-looking strings
(API keys, Telegram bot tokens, passwords inside URLs) are replaced by `[redacted]`, also in
exception text. Lines are written by `BatchingStreamHandler`: in batches, at most
`FLUSH_SECONDS` late, at once for warnings and errors (one write per access line was the largest
fixed cost of a request).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import threading
import time
from collections.abc import Iterable
from typing import Any

from agent.guards.redaction import Redactor, settings_secrets
from agent.settings import Settings

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
}
# one encoder for every line (`json.dumps(..., default=str)` would build a new one each time)
_ENCODER = json.JSONEncoder(default=str)
# Without one of these no pattern of the redactor can match (each needs ':' or '=', or starts
# with 'sk-' or 'lsv2_'): a text holding none of them and no configured secret is left as is.
_MARKERS = (":", "=", "sk-", "lsv2_")


class JsonFormatter(logging.Formatter):
    """Structured log lines: time, level, logger, message, request id and any `extra` fields."""

    _second = -1
    _stamp = ""

    def _ts(self, created: float, msecs: float) -> str:
        second = int(created)
        if second != self._second:  # the same second as the last line: its text is reused
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._stamp}.{int(msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": self._ts(record.created, record.msecs),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id:
            payload["request_id"] = request_id
        payload.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_text:
            payload["exc_info"] = record.exc_text
        elif record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        return _ENCODER.encode(payload)


class TextFormatter(logging.Formatter):
    """Readable lines for a terminal, with the request id when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = REQUEST_ID.get()
        prefix = f"[{request_id[:8]}] " if request_id else ""
        record.msg = prefix + str(record.msg)
        try:
            return super().format(record)
        finally:
            record.msg = str(record.msg)[len(prefix) :]


class SecretFilter(logging.Filter):
    """Rewrites each record with secrets redacted from its message and exception text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.redact = Redactor(list(secrets))
        marks = (*_MARKERS, *self.redact.secrets)
        self._suspect = re.compile("|".join(re.escape(m) for m in marks)).search

    def clean(self, text: str) -> str:
        """`text` redacted; without a secret or a marker of the patterns, `text` itself."""
        return self.redact.text(text) if self._suspect(text) else text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.clean(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:  # formatters reuse exc_text when set
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact.text(record.exc_text)
        fields = record.__dict__
        for key in [k for k in fields if k not in _STANDARD]:
            value = fields[key]
            if isinstance(value, str):
                fields[key] = self.clean(value)
        return True


class BatchingStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes its lines in batches: a background thread writes what
    waits every `FLUSH_SECONDS`; a warning or worse, `MAX_PENDING` lines, `flush()` and
    shutdown write at once. One write and flush per request cost more than the request."""

    FLUSH_SECONDS = 0.2
    MAX_PENDING = 512

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._wake = threading.Event()
        self._writer = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self._writer.start()

    def _run(self) -> None:
        while not self._wake.wait(self.FLUSH_SECONDS):
            if self._pending:
                self.flush()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        with self.lock:  # type: ignore[union-attr]
            self._pending.append(line)
            urgent = record.levelno >= logging.WARNING or len(self._pending) >= self.MAX_PENDING
        if urgent:
            self.flush()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            lines, self._pending = self._pending, []
            if lines and self.stream is not None:
                self.stream.write("".join(lines))
            if self.stream is not None and hasattr(self.stream, "flush"):
                self.stream.flush()

    def setStream(self, stream: Any) -> Any:
        self.flush()  # what waits belongs to the old stream
        return super().setStream(stream)

    def close(self) -> None:
        self._wake.set()
        self.flush()
        super().close()


def configure_logging(level: str = "INFO", fmt: str = "json", secrets: Iterable[str] = ()) -> None:
    """Install one batching stream handler on the root logger (idempotent), redacting
    `secrets`."""
    for old in logging.getLogger().handlers:
        if isinstance(old, BatchingStreamHandler):
            old.close()
    handler = BatchingStreamHandler()
    handler.addFilter(SecretFilter(secrets))
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def configure_logging_for(settings: Settings) -> None:
    """`configure_logging` with the settings' level and format, redacting their secrets."""
    configure_logging(settings.log_level, settings.log_format, settings_secrets(settings))
