"""The FastAPI application: lifespan builds the services once, routers per resource."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI

from agent.core import Services
from agent.services.startup import load_market_data
from agent.settings import Settings, load_settings
from api import headers, middleware
from api.errors import install_error_handlers
from api.metrics import Metrics
from api.routers import (
    admin,
    backtest,
    chat,
    forecast,
    knowledge,
    market,
    meta,
    sentiment,
    status,
    technical,
)
from bots.telegram_bot import start_webhook_bot, stop_webhook_bot
from bots.webhook import router as telegram_router
from ui.mount import mount_web_ui

log = logging.getLogger(__name__)
VERSION = "0.1.0"


async def _load_market_data(services: Services) -> None:
    message = await anyio.to_thread.run_sync(
        lambda: load_market_data(
            services.market, services.settings.crypto_data_dir, provider_refresh=False
        ),
        abandon_on_cancel=True,
    )
    await services.market.invalidate_all()
    if "could not" in message or "failed" in message:
        log.warning(message)
    else:
        log.info(message)


async def _warm_models(services: Services) -> None:
    """Load the champion models in the background, so the first forecast is fast."""
    warmed = await anyio.to_thread.run_sync(services.forecasts.warm_up, abandon_on_cancel=True)
    if warmed:
        log.info("forecast models warm: %s", ", ".join(warmed))


async def _index_corpus(services: Services) -> None:
    """Index the curated knowledge corpus in the background (cheap when nothing changed)."""
    try:
        results = await anyio.to_thread.run_sync(
            services.knowledge.ensure_corpus, abandon_on_cancel=True
        )
        log.info("knowledge corpus: %d document(s) checked", len(results))
    except Exception as exc:  # the assistant still answers without the corpus
        log.warning("knowledge corpus could not be indexed: %s", exc)


async def _start_bot(services: Services) -> Any:
    """The Telegram bot in this process: webhook mode, or polling when no webhook URL is set."""
    settings = services.settings
    if settings.telegram_bot_token is None:
        return None
    if not settings.telegram_webhook_url and not settings.telegram_poll_in_api:
        return None
    bot = await start_webhook_bot(services, settings)
    if bot is not None and not settings.telegram_webhook_url and bot.updater is not None:
        await bot.updater.start_polling(allowed_updates=["message"])
        log.info("Telegram bot polling from the API process")
    return bot


async def _stop_bot(bot: Any) -> None:
    if bot is not None and bot.updater is not None and bot.updater.running:
        await bot.updater.stop()
    await stop_webhook_bot(bot)


def create_app(
    settings: Settings | None = None,
    services: Services | None = None,
    *,
    load_data: bool | None = None,
) -> FastAPI:
    """Build the app; tests pass ready `services`, production builds them from settings."""
    config = services.settings if services is not None else settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = services is None
        active: Services = (
            services
            if services is not None
            else await anyio.to_thread.run_sync(Services.build, config)
        )
        app.state.services = active
        started_chat = active.chat is None  # this app opens the chat's pools: it closes them
        await active.start_chat()
        app.state.telegram = await _start_bot(active)
        should_load = active.settings.load_data_on_start if load_data is None else load_data
        async with anyio.create_task_group() as tasks:
            if should_load:
                tasks.start_soon(_load_market_data, active)
            if active.settings.forecast_preload:
                tasks.start_soon(_warm_models, active)
            if should_load:
                tasks.start_soon(_index_corpus, active)
            yield
            tasks.cancel_scope.cancel()
        await _stop_bot(app.state.telegram)
        if own:
            await active.aclose()
        elif started_chat:
            await active.stop_chat()

    app = FastAPI(
        title="Crypto Analysis Assistant",
        version=VERSION,
        description="Answers about crypto markets from real engines; every number from a tool.",
        lifespan=lifespan,
        # FastAPI's native OpenTelemetry hooks look up the global providers on every request;
        # the project's telemetry is Prometheus (`/metrics`) and LangSmith, so they are off
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.metrics = Metrics(lambda: getattr(app.state, "services", None))
    install_error_handlers(app)
    if config.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=config.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.include_router(meta.router)
    app.include_router(market.router)
    app.include_router(technical.router)
    app.include_router(backtest.router)
    app.include_router(forecast.router)
    app.include_router(sentiment.router)
    app.include_router(knowledge.router)
    app.include_router(chat.router)
    app.include_router(admin.router)
    app.include_router(status.router)
    app.include_router(telegram_router)
    mount_web_ui(app, path="/ui", settings=config)  # the Chainlit web chat (ui/app.py)
    # added after CORS and the web chat's own middleware, so it wraps them: their refusals get
    # a request id, metrics and a log line, and an exception in them the one JSON 500
    middleware.install(app)
    headers.install(app, ui_prefix="/ui")  # outermost: every response, refusals and 500s too
    return app
