"""`POST /telegram/webhook`: Telegram's updates, checked against the shared secret, to the bot.

The API's lifespan puts the running Application (from `start_webhook_bot`) in
`app.state.telegram`. The update is queued and answered with 200 at once, as
python-telegram-bot's own webhook server does: holding Telegram's request for a whole chat turn
or chart would make it time out and deliver the update again.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from telegram import Update

from agent.settings import Settings
from bots.telegram_bot import SETTINGS_KEY, BotApplication

log = logging.getLogger(__name__)
router = APIRouter(tags=["telegram"])
AUTH_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _error(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    """The project's error shape, `{"error": {"code", "message", "details"}}`."""
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(status_code=status, content=body)


def _running_bot(request: Request) -> tuple[BotApplication, str] | None:
    """The running Application and its webhook secret, or None if either is missing."""
    application: BotApplication | None = getattr(request.app.state, "telegram", None)
    if application is None or not application.running:
        return None
    settings: Settings | None = application.bot_data.get(SETTINGS_KEY)
    if settings is None or settings.telegram_webhook_secret is None:
        return None
    secret = settings.telegram_webhook_secret.get_secret_value()
    return (application, secret) if secret else None


@router.post(
    "/telegram/webhook",
    summary="Telegram Bot API webhook",
    responses={401: {}, 403: {}, 400: {}, 503: {}},
)
async def telegram_webhook(request: Request) -> JSONResponse:
    """Accept one update when the secret-token header matches `TELEGRAM_WEBHOOK_SECRET`."""
    bot = _running_bot(request)
    if bot is None:
        return _error(
            503, "telegram_unavailable", "The Telegram bot is not configured on this server."
        )
    application, secret = bot
    given = request.headers.get(AUTH_HEADER)
    if not given:
        return _error(401, "missing_secret", f"The {AUTH_HEADER} header is required.")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        log.warning("refused a Telegram webhook call with a wrong secret token")
        return _error(403, "invalid_secret", "The webhook secret token is not valid.")
    try:
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("the body is not a JSON object")
        update = Update.de_json(body, application.bot)
    except Exception as exc:  # malformed JSON or not an Update
        log.warning("refused a malformed Telegram update: %s", exc)
        return _error(400, "invalid_update", "The body is not a Telegram update.")
    await application.update_queue.put(update)
    return JSONResponse({"ok": True})
