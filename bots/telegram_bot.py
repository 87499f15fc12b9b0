"""The Telegram bot: a python-telegram-bot `Application` wired to the agent's services.

Two ways to receive updates:

- polling, `crypto-assistant bot`: `main(settings)` builds the services and calls
  `run_polling(services, settings)`, which blocks until SIGINT/SIGTERM;
- webhook, inside the API: the lifespan calls `start_webhook_bot(services, settings)` and
  `stop_webhook_bot(app)`, and `bots.webhook.router` feeds `POST /telegram/webhook` to it.

Handler order: the allow-list (group -2), the per-chat rate limit (group -1), then commands and
free text (group 0); a guard that refuses an update stops it before any service is called.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from agent.core import Services
from agent.services.startup import load_market_data
from agent.settings import Settings
from bots.commands import BotHandlers, Context
from bots.errors import APOLOGY, describe_error
from bots.formatting import COMMANDS, escape

log = logging.getLogger(__name__)

BotApplication = Application[Any, Any, Any, Any, Any, Any]
Hook = Callable[[BotApplication], Coroutine[Any, Any, None]]

SETTINGS_KEY = "crypto_assistant.settings"
"""Where `build_application` keeps the settings in `application.bot_data` (the webhook reads it)."""

ALLOWED_UPDATES = [Update.MESSAGE]
"""The only update type the bot handles; Telegram is asked not to send the others."""


class BotStartError(Exception):
    """The bot cannot start: no token, webhook and polling mixed, token rejected, API unreachable."""


def _token(settings: Settings) -> str:
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        raise BotStartError("TELEGRAM_BOT_TOKEN is not set; the Telegram bot cannot start")
    return settings.telegram_bot_token.get_secret_value()


def _check_polling(settings: Settings) -> None:
    if settings.telegram_webhook_url:
        raise BotStartError(
            "TELEGRAM_WEBHOOK_URL is set, so updates go to the API's /telegram/webhook; "
            "unset it to run the bot with polling"
        )


def file_base_url(base_url: str) -> str:
    """The file-download URL that goes with a Bot API URL (`.../bot` -> `.../file/bot`)."""
    root = base_url.rstrip("/")
    return f"{root.removesuffix('/bot')}/file/bot"


async def on_error(update: object, context: Context) -> None:
    """Known service errors get a specific reply; anything else is logged and apologised for.

    The user never sees an exception's text or a traceback for an unexpected error.
    """
    error = context.error
    reply = describe_error(error)
    if reply is None:
        if isinstance(error, NetworkError) and not isinstance(update, Update):
            log.warning("Telegram API unreachable: %s", error)
            return
        log.error("unexpected error while handling a Telegram update", exc_info=error)
        reply = escape(APOLOGY)
    else:
        log.info("answered a %s: %s", type(error).__name__, error)
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            await update.effective_message.reply_text(reply, parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            log.warning("could not send the error reply: %s", exc)


def install_handlers(application: BotApplication, handlers: BotHandlers) -> None:
    """Guards, commands, free text, unknown commands and the error handler."""
    application.add_handler(TypeHandler(Update, handlers.guard_allowed), group=-2)
    application.add_handler(TypeHandler(Update, handlers.guard_rate), group=-1)
    for name, callback in handlers.command_callbacks().items():
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, handlers.text))
    application.add_handler(MessageHandler(filters.COMMAND, handlers.unknown))
    application.add_error_handler(on_error)


def build_application(
    services: Services,
    settings: Settings,
    *,
    post_init: Hook | None = None,
    post_shutdown: Hook | None = None,
) -> BotApplication:
    """The Application with every handler; `TELEGRAM_API_BASE_URL` redirects the Bot API."""
    builder = ApplicationBuilder().token(_token(settings)).job_queue(None)
    builder = builder.concurrent_updates(True)  # turns of one chat are serialised by ChatLocks
    if settings.telegram_api_base_url:
        base = settings.telegram_api_base_url
        builder = builder.base_url(base).base_file_url(file_base_url(base))
    if post_init is not None:
        builder = builder.post_init(post_init)
    if post_shutdown is not None:
        builder = builder.post_shutdown(post_shutdown)
    application: BotApplication = builder.build()
    application.bot_data[SETTINGS_KEY] = settings
    install_handlers(application, BotHandlers(services, settings))
    return application


async def publish_commands(application: BotApplication) -> None:
    """Set the command menu Telegram shows in the chat (a failure is logged, not fatal)."""
    try:
        await application.bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])
    except TelegramError as exc:
        log.warning("could not publish the command menu: %s", exc)


def run_polling(services: Services, settings: Settings, *, close_services: bool = False) -> None:
    """Receive updates with getUpdates until SIGINT/SIGTERM (blocking; owns its event loop).

    The chat service is started inside the bot's loop; with `close_services` the services are
    closed there too when polling stops.
    """
    _check_polling(settings)

    async def started(application: BotApplication) -> None:
        await services.start_chat()
        await publish_commands(application)
        me = application.bot.username
        log.info("Telegram bot @%s is polling for updates", me)

    async def stopped(application: BotApplication) -> None:
        if close_services:
            await services.aclose()

    application = build_application(services, settings, post_init=started, post_shutdown=stopped)
    application.run_polling(allowed_updates=ALLOWED_UPDATES)


def main(settings: Settings, *, load_data: bool = False) -> None:
    """`crypto-assistant bot`: build the services, optionally load market data, then poll.

    Raises `BotStartError` when the settings cannot work (before touching the database) or
    when Telegram rejects the token or cannot be reached at start-up.
    """
    _token(settings)
    _check_polling(settings)
    services = Services.build(settings)
    if load_data:
        data_dir = services.settings.crypto_data_dir
        log.info(load_market_data(services.market, data_dir, provider_refresh=False))
    try:
        run_polling(services, settings, close_services=True)
    except InvalidToken as exc:
        raise BotStartError("Telegram rejected TELEGRAM_BOT_TOKEN") from exc
    except NetworkError as exc:
        raise BotStartError(f"the Telegram Bot API cannot be reached: {exc}") from exc


async def start_webhook_bot(services: Services, settings: Settings) -> BotApplication | None:
    """For the API lifespan: initialise and start the bot, register the webhook if configured.

    Returns None when no token is set, or when Telegram cannot be reached (logged; the API
    keeps serving and the webhook answers 503).
    """
    if settings.telegram_bot_token is None:
        return None
    application = build_application(services, settings)
    try:
        await application.initialize()
    except TelegramError as exc:
        log.error("the Telegram bot could not start: %s", exc)
        return None
    await publish_commands(application)
    await application.start()
    secret = settings.telegram_webhook_secret
    if settings.telegram_webhook_url and secret is None:
        log.error(
            "TELEGRAM_WEBHOOK_URL is set without TELEGRAM_WEBHOOK_SECRET: the webhook was not "
            "registered, because it would accept updates from anyone"
        )
    elif settings.telegram_webhook_url and secret is not None:
        try:
            await application.bot.set_webhook(
                settings.telegram_webhook_url,
                secret_token=secret.get_secret_value(),
                allowed_updates=ALLOWED_UPDATES,
            )
            log.info("Telegram webhook registered at %s", settings.telegram_webhook_url)
        except TelegramError as exc:
            log.error("could not register the Telegram webhook: %s", exc)
    return application


async def stop_webhook_bot(application: BotApplication | None) -> None:
    """For the API lifespan: finish in-flight updates and release the bot's connections."""
    if application is None:
        return
    if application.running:
        await application.stop()
    await application.shutdown()
