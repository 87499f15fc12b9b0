"""Where alerts go: a Telegram admin chat through the Bot API, and every apprise URL in
`ALERT_URLS` (Slack, email, Discord, `json://` webhooks...: one library for 100+ services).

Each destination is a channel with a stable name (`telegram:<chat id>`, `url:<hash>`), so the
alert store can record which channels took a message and retry only the ones that did not.
Errors name the channel (`ALERT_URLS #2 (json://)`), never a token.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Protocol

import httpx

if TYPE_CHECKING:
    from agent.settings import Settings

log = logging.getLogger(__name__)

TELEGRAM_API = "https://api.telegram.org/bot"
TELEGRAM_MAX_CHARS = 4096
# apprise URLs are separated by commas or spaces before the next `scheme://` (a comma inside a
# URL, as in `mailto://...?to=a@x.org,b@x.org`, stays in it)
_URL_SPLIT = re.compile(r"[\s,]+(?=[A-Za-z][A-Za-z0-9+.-]*://)")


class NotifyError(Exception):
    """A channel did not take a message; the text says which and why (no secrets)."""


class Channel(Protocol):
    """One destination of alert messages."""

    name: str

    def send(self, title: str, text: str, kind: str) -> None:
        """Deliver one message; raise NotifyError when it was not taken."""


class TelegramChannel:
    """Plain-text messages to one chat through the Bot API (`TELEGRAM_API_BASE_URL` if set)."""

    def __init__(
        self, token: str, chat_id: int, base_url: str | None = None, timeout: float = 10.0
    ) -> None:
        self.name = f"telegram:{chat_id}"
        self.chat_id = chat_id
        self.timeout = timeout
        self._url = f"{base_url or TELEGRAM_API}{token}/sendMessage"

    def send(self, title: str, text: str, kind: str) -> None:
        body = {"chat_id": self.chat_id, "text": text[:TELEGRAM_MAX_CHARS]}
        try:
            response = httpx.post(
                self._url, json=body | {"disable_web_page_preview": True}, timeout=self.timeout
            )
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:  # the URL holds the token: not quoted
            raise NotifyError(f"Telegram unreachable ({type(exc).__name__})") from None
        if response.status_code != 200 or not answer.get("ok"):
            detail = str(answer.get("description", ""))[:200]
            raise NotifyError(f"Telegram answered {response.status_code}: {detail}")


class AppriseChannel:
    """One apprise URL (`slack://...`, `mailtos://...`, `json://host/path`, ...)."""

    def __init__(self, url: str, index: int) -> None:
        self.name = "url:" + hashlib.sha256(url.encode()).hexdigest()[:12]
        scheme = url.split("://", 1)[0] if "://" in url else "?"
        self.label = f"ALERT_URLS #{index} ({scheme}://)"
        self._url = url
        library_log = logging.getLogger("apprise")
        if library_log.level == logging.NOTSET:  # its DEBUG lines print whole URLs, tokens too
            library_log.setLevel(logging.INFO)

    def send(self, title: str, text: str, kind: str) -> None:
        import apprise

        app = apprise.Apprise(asset=apprise.AppriseAsset(storage_mode="memory"))
        if not app.add(self._url):
            raise NotifyError(f"{self.label} is not a URL apprise can use")
        notify_type = (
            apprise.NotifyType.SUCCESS if kind == "cleared" else apprise.NotifyType.FAILURE
        )
        if not app.notify(body=text, title=title, notify_type=notify_type):
            raise NotifyError(f"{self.label} did not take the message (the apprise log says why)")


class Notifier:
    """Sends a message to every channel not already holding it; reports who took it."""

    def __init__(self, channels: Sequence[Channel]) -> None:
        self.channels = list(channels)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.channels]

    def send(
        self, title: str, text: str, kind: str, skip: Collection[str] = ()
    ) -> tuple[list[str], dict[str, str]]:
        """Deliver to each channel outside `skip`: the channels that took it, and the errors."""
        delivered: list[str] = []
        errors: dict[str, str] = {}
        for channel in self.channels:
            if channel.name in skip:
                continue
            try:
                channel.send(title, text, kind)
                delivered.append(channel.name)
            except NotifyError as exc:
                errors[channel.name] = str(exc)
            except Exception as exc:  # a library bug must not lose the other channels
                errors[channel.name] = f"{type(exc).__name__} while sending"
                log.exception("alert channel %s failed", channel.name)
        return delivered, errors


def alert_urls(settings: Settings) -> list[str]:
    """The apprise URLs of `ALERT_URLS` (comma- or space-separated)."""
    if settings.alert_urls is None:
        return []
    text = settings.alert_urls.get_secret_value().strip()
    return [part.strip(" ,") for part in _URL_SPLIT.split(text) if part.strip(" ,")]


def build_notifier(settings: Settings) -> Notifier:
    """The Telegram admin chat (with `ALERT_TELEGRAM_CHAT_ID` and a bot token) and the URLs."""
    channels: list[Channel] = []
    chat_id = settings.alert_telegram_chat_id
    if chat_id is not None and settings.telegram_bot_token is not None:
        token = settings.telegram_bot_token.get_secret_value()
        channels.append(TelegramChannel(token, chat_id, settings.telegram_api_base_url))
    elif chat_id is not None:
        log.warning("ALERT_TELEGRAM_CHAT_ID is set without TELEGRAM_BOT_TOKEN: no Telegram alerts")
    channels += [AppriseChannel(url, i) for i, url in enumerate(alert_urls(settings), start=1)]
    if not channels:
        log.info(
            "no alert channel configured (ALERT_TELEGRAM_CHAT_ID, ALERT_URLS): alerts are logged only"
        )
    return Notifier(channels)
