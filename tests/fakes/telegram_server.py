"""A fake Telegram Bot API on 127.0.0.1, so tests run python-telegram-bot's real HTTP code offline.

The bot is pointed at it with `TELEGRAM_API_BASE_URL=http://127.0.0.1:PORT/bot` (PTB appends the
token and the method, as with `https://api.telegram.org/bot<token>/<method>`). It answers
`getMe`, `deleteWebhook`, `setWebhook`, `getWebhookInfo`, `getUpdates` (serving the updates a
test queued, honouring `offset`, holding an empty poll at most `max_poll_seconds`), `sendMessage`,
`sendPhoto` (multipart; the photo's bytes are kept), `sendChatAction`, `setMyCommands` and
`answerCallbackQuery`. Bodies may be JSON, urlencoded or multipart, as PTB sends them. Every call
is recorded, so a test asserts what the user would have seen:

    with FakeTelegram() as api:
        settings = make_settings(telegram_bot_token=api.token, telegram_api_base_url=api.base_url)
        api.message("/price btc", user_id=111)          # queued for the next getUpdates
        (reply,) = await api.wait_for("sendMessage")    # async: the bot runs in this loop
        assert reply.chat_id == 111 and "Bitcoin" in reply.text
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import itertools
import json
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.http import FakeHTTPServer, LocalHTTPServer, QuietHandler

DEFAULT_TOKEN = "123456789:TEST-token_for-the-fake-api"
BOT_ID = 123456789
BOT_USERNAME = "crypto_assistant_test_bot"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (raises ValueError if `data` is not a PNG)."""
    if data[:8] != PNG_MAGIC or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def message_update(
    update_id: int,
    text: str,
    *,
    user_id: int = 111,
    chat_id: int | None = None,
    message_id: int = 1,
    first_name: str = "Alice",
    chat_type: str = "private",
    date: int | None = None,
) -> dict[str, Any]:
    """A realistic `message` Update as Telegram sends it, with the bot_command entity a
    leading `/command` gets (python-telegram-bot's CommandHandler relies on it)."""
    chat_id = user_id if chat_id is None else chat_id
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = first_name
    else:
        chat["title"] = "Test group"
    message: dict[str, Any] = {
        "message_id": message_id,
        "from": {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "username": f"{first_name.lower()}{user_id}",
            "language_code": "en",
        },
        "chat": chat,
        "date": int(time.time()) if date is None else date,
        "text": text,
    }
    if text.startswith("/"):
        command = text.split()[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"update_id": update_id, "message": message}


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str
    data: bytes


@dataclass
class BotApiCall:
    """One Bot API request: method, token used, fields (strings, as sent) and uploaded files."""

    method: str
    token: str
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)

    @property
    def chat_id(self) -> int | None:
        """The target chat, as an int."""
        value = self.fields.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        """The message text, or a photo's caption ('' when neither)."""
        return self.fields.get("text") or self.fields.get("caption") or ""

    def json_field(self, name: str) -> Any:
        """A field PTB sent JSON-encoded (lists, objects, booleans)."""
        return json.loads(self.fields[name])


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, Any]]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for part in parsed.iter_parts():  # type: ignore[attr-defined]
        name = str(part.get_param("name", header="content-disposition"))
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if filename is not None:
            files[name] = UploadedFile(filename, part.get_content_type(), data)
        else:
            fields[name] = data.decode(part.get_content_charset() or "utf-8")
    return fields, files


def _parse_body(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, Any]]:
    """Fields and files of a JSON, urlencoded or multipart request body."""
    kind = content_type.split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        return _parse_multipart(body, content_type)
    if kind == "application/json":
        data = json.loads(body or b"{}")
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}, {}
    query = parse_qs(body.decode(), keep_blank_values=True)
    return {k: v[-1] for k, v in query.items()}, {}


class _Server(FakeHTTPServer):
    fake: FakeTelegram


class _Handler(QuietHandler):
    server: _Server

    def _handle(self) -> None:
        body = self.read_body()
        path = self.path.split("?")[0]
        prefix, _, method = path.rpartition("/")
        token = prefix.removeprefix("/bot")
        fields, files = _parse_body(body, self.headers.get("Content-Type", ""))
        if "?" in self.path:
            fields.update({k: v[-1] for k, v in parse_qs(self.path.split("?", 1)[1]).items()})
        status, payload = self.server.fake._call(BotApiCall(method, token, fields, files))
        self.send_json(status, payload)

    do_GET = _handle
    do_POST = _handle


class FakeTelegram(LocalHTTPServer):
    """The fake Bot API. `message()` queues an update; `calls()`/`wait_for()` show the bot's.

    `base_url` is `http://127.0.0.1:PORT/bot`, the value for `TELEGRAM_API_BASE_URL`.
    """

    def __init__(self, token: str = DEFAULT_TOKEN, *, max_poll_seconds: float = 0.2) -> None:
        super().__init__(_Handler, _Server, name="fake-telegram", path="/bot")
        self.token = token
        self.max_poll_seconds = max_poll_seconds
        self.errors: list[str] = []
        self._cond = threading.Condition()
        self._calls: list[BotApiCall] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)

    # ----- what the test sends -----

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a ready Update dict for the next getUpdates."""
        with self._cond:
            self._updates.append(update)
            self._cond.notify_all()
        return update

    def make_update(self, text: str, **kwargs: Any) -> dict[str, Any]:
        """A message Update with fresh update and message ids (see `message_update`), unqueued."""
        return message_update(
            next(self._update_ids), text, message_id=next(self._message_ids), **kwargs
        )

    def message(self, text: str, **kwargs: Any) -> dict[str, Any]:
        """Queue a text message from a user (`user_id`, `chat_id`, `first_name`, `chat_type`)."""
        return self.push_update(self.make_update(text, **kwargs))

    # ----- what the bot sent -----

    def calls(self, method: str | None = None) -> list[BotApiCall]:
        """Every recorded call, or those of one method, in arrival order."""
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def sent(self, chat_id: int | None = None) -> list[BotApiCall]:
        """The sendMessage and sendPhoto calls (to one chat when given)."""
        return [
            c
            for c in self.calls()
            if c.method in ("sendMessage", "sendPhoto") and chat_id in (None, c.chat_id)
        ]

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        """Texts and captions the bot sent, in order."""
        return [c.text for c in self.sent(chat_id)]

    def pending_updates(self) -> int:
        """Updates queued but not yet confirmed by a later getUpdates offset."""
        with self._cond:
            return len(self._updates)

    async def wait_for(
        self, method: str, count: int = 1, *, chat_id: int | None = None, timeout: float = 15.0
    ) -> list[BotApiCall]:
        """Wait (without blocking the event loop) until `count` calls of `method` arrived."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.calls(method) if chat_id in (None, c.chat_id)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} {method} call(s), got {len(found)}; "
                    f"all calls: {[c.method for c in self.calls()]}"
                )
            await asyncio.sleep(0.01)

    def wait_for_sync(
        self, method: str, count: int = 1, *, chat_id: int | None = None, timeout: float = 15.0
    ) -> list[BotApiCall]:
        """`wait_for` for code that runs the bot in another thread (e.g. TestClient)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [
                    c for c in self._calls if c.method == method and chat_id in (None, c.chat_id)
                ]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} {method} call(s), got {len(found)}")
                self._cond.wait(left)

    # ----- the Bot API -----

    def _message(self, call: BotApiCall, **extra: Any) -> dict[str, Any]:
        chat_id = call.chat_id or 0
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Crypto Assistant"},
            **extra,
        }

    def _get_updates(self, call: BotApiCall) -> list[dict[str, Any]]:
        offset = int(call.fields.get("offset") or 0)
        limit = int(call.fields.get("limit") or 100)
        wait = min(float(call.fields.get("timeout") or 0), self.max_poll_seconds)
        deadline = time.monotonic() + wait
        with self._cond:
            while True:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                if self._updates or time.monotonic() >= deadline:
                    return self._updates[:limit]
                self._cond.wait(max(deadline - time.monotonic(), 0))

    def _call(self, call: BotApiCall) -> tuple[int, dict[str, Any]]:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()
        if call.token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        result: Any
        if call.method == "getMe":
            result = {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Crypto Assistant",
                "username": BOT_USERNAME,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        elif call.method == "getUpdates":
            result = self._get_updates(call)
        elif call.method in (
            "deleteWebhook",
            "setWebhook",
            "sendChatAction",
            "setMyCommands",
            "answerCallbackQuery",
        ):
            result = True
        elif call.method == "getWebhookInfo":
            result = {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        elif call.method == "sendMessage":
            result = self._message(call, text=call.fields.get("text", ""))
        elif call.method == "sendPhoto":
            photo = call.files.get("photo")
            try:
                width, height = png_size(photo.data) if photo else (0, 0)
            except ValueError:
                width, height = 0, 0
            size = {"file_id": "photo-1", "file_unique_id": "p1", "width": width}
            result = self._message(
                call,
                photo=[{**size, "height": height, "file_size": len(photo.data) if photo else 0}],
                caption=call.fields.get("caption", ""),
            )
        else:
            self.errors.append(f"unexpected Bot API method {call.method}")
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        return 200, {"ok": True, "result": result}
