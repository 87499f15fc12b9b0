"""The composition root: builds every service once from `Settings` and closes them at exit."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from agent.graph.chat import ChatService
from agent.services.alerts import AlertService
from agent.services.backtest import BacktestService
from agent.services.forecast import ForecastService
from agent.services.health import HealthService
from agent.services.jobs import JobQueue
from agent.services.knowledge import KnowledgeService
from agent.services.market import MarketService
from agent.services.sentiment import SentimentService
from agent.services.technical import TechnicalService
from agent.services.training import TrainingService
from agent.settings import Settings
from agent.toolkit import Engines, build_tools
from knowledge.cache import SafeCache, make_cache
from knowledge.database import Database, start_embedded_postgres
from knowledge.embeddings import Embedder, shared_embedder
from knowledge.market.refresh import MarketDataProvider
from knowledge.market.repository import PriceRepository
from knowledge.migrations import applied_versions, apply_migrations
from knowledge.models.ledger import PredictionLedger
from knowledge.models.registry import ModelRegistry
from knowledge.models.stance_ledger import StanceLedger
from knowledge.news import NewsStore
from knowledge.queue import ensure_queue_schema
from knowledge.ratelimit import RateLimiter

log = logging.getLogger(__name__)


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def database_url(settings: Settings) -> str:
    """The configured URL, or the embedded server's (started on demand)."""
    return _secret(settings.database_url) or start_embedded_postgres(settings.embedded_pgdata)


def make_provider(settings: Settings) -> MarketDataProvider | None:
    """The market-data provider named by `MARKET_PROVIDER` (None for `none`)."""
    if settings.market_provider == "none":
        return None
    from knowledge.market.yahoo import YFinanceProvider

    return YFinanceProvider(
        timeout=settings.provider_timeout_seconds, retries=settings.provider_retries
    )


def upgrade_database(settings: Settings) -> tuple[list[str], int]:
    """Apply pending migrations; return the files applied now and the schema version."""
    db = Database(database_url(settings), timeout=settings.db_timeout_seconds)
    db.open()
    try:
        applied = apply_migrations(db)
        if ensure_queue_schema(db):
            applied.append("job queue schema (procrastinate)")
        versions = applied_versions(db)
    finally:
        db.close()
    return applied, max(versions, default=0)


def _forecast_config(settings: Settings) -> Any:
    """The engine's default model configuration, with the epochs setting applied."""
    if settings.forecast_epochs is None:
        return None
    from tools.forecast import DEFAULT_CONFIG

    return DEFAULT_CONFIG.model_copy(update={"epochs": settings.forecast_epochs})


@dataclass(kw_only=True)
class Services:
    """Everything the front-ends use, built once per process (by keyword: `Services.build`)."""

    settings: Settings
    db: Database
    cache: SafeCache
    prices: PriceRepository
    market: MarketService
    technical: TechnicalService
    backtests: BacktestService
    health: HealthService
    forecasts: ForecastService
    training: TrainingService
    sentiment: SentimentService
    embedder: Embedder
    knowledge: KnowledgeService
    dsn: str = field(default="", repr=False)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    jobs: JobQueue
    alerts: AlertService | None = None
    chat: ChatService | None = None
    memory: Any = None
    llm: Any = None  # the chat's LanguageModel (a local model's server), closed with the chat
    warm_up: Any = None  # the task warming a local model's prompt cache
    started_at: float = field(default_factory=time.time)

    @classmethod
    def build(cls, settings: Settings, provider: MarketDataProvider | None = None) -> Services:
        """Open the pool (embedded Postgres when no URL), apply migrations, wire the services."""
        dsn = database_url(settings)
        db = Database(
            dsn,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            timeout=settings.db_timeout_seconds,
        )
        db.open()
        apply_migrations(db)
        ensure_queue_schema(db)
        jobs = JobQueue(db, stalled_after=settings.worker_stalled_after_seconds)
        redis_url = _secret(settings.redis_url)
        cache = make_cache(redis_url)
        prices = PriceRepository(db)
        market = MarketService(
            prices,
            cache,
            provider if provider is not None else make_provider(settings),
            cache_ttl=settings.cache_ttl_seconds,
            stale_after_hours=settings.stale_after_hours,
        )
        stances = StanceLedger(db)
        technical = TechnicalService(
            prices, cache, cache_ttl=settings.cache_ttl_seconds, ledger=stances
        )
        backtests = BacktestService(prices, cache, cache_ttl=settings.cache_ttl_seconds)
        health = HealthService(db, cache, redis_configured=redis_url is not None)
        registry = ModelRegistry(db)
        model_dir = settings.resolved_model_dir
        forecasts = ForecastService(
            prices,
            registry,
            PredictionLedger(db),
            model_dir,
            training_job=jobs.training,
            stances=stances,
        )
        training = TrainingService(
            prices,
            registry,
            forecasts,
            model_dir,
            eval_days=settings.forecast_eval_days,
            refit_every=settings.forecast_refit_every,
            config=_forecast_config(settings),
        )
        embedder = shared_embedder()
        from tools.sentiment.config import SentimentConfig

        sentiment = SentimentService(
            NewsStore(db), SentimentConfig.from_settings(settings), embedder=embedder
        )
        knowledge = KnowledgeService(db, embedder, registry=registry)
        training.on_registry_change = knowledge.refresh_model_cards
        sentiment.on_new_items = knowledge.index_news
        return cls(
            settings=settings,
            db=db,
            cache=cache,
            prices=prices,
            market=market,
            technical=technical,
            backtests=backtests,
            health=health,
            forecasts=forecasts,
            training=training,
            sentiment=sentiment,
            embedder=embedder,
            knowledge=knowledge,
            dsn=dsn,
            jobs=jobs,
            alerts=AlertService.from_settings(settings, db),
            limiter=RateLimiter(redis_url),
        )

    async def start_chat(self) -> ChatService:
        """Build the chat graph once, with its Postgres checkpointer, tools and LLM."""
        if self.chat is None:
            from agent.graph.builder import build_graph
            from agent.graph.context import TurnContext
            from agent.graph.llm import open_language_model
            from agent.graph.memory import ThreadMemory
            from agent.graph.schema_turn import warm_up
            from agent.graph.tracing import Tracing

            memory = ThreadMemory(self.dsn, timeout=self.settings.db_timeout_seconds)
            saver = await memory.open()
            self.memory = memory
            # a local model is loaded here (seconds): off the event loop
            self.llm = await asyncio.to_thread(open_language_model, self.settings)
            context = TurnContext.build(
                self.settings,
                self.tools(),
                self.llm.chat if self.llm else None,
                tool_mode=self.llm.tool_mode if self.llm else None,
            )
            self.chat = ChatService(build_graph(saver), context, Tracing(self.settings))
            if self.llm is not None and self.llm.server is not None:
                self.warm_up = asyncio.create_task(warm_up(context))
        return self.chat

    def tools(self) -> list[Any]:
        """The agent's tools, bound to these services (the chat and LangGraph Studio use them)."""
        return build_tools(self.engines())

    def engines(self) -> Engines:
        """The services the tool table calls."""
        return Engines(
            market=self.market,
            technical=self.technical,
            backtests=self.backtests,
            forecasts=self.forecasts,
            sentiment=self.sentiment,
            knowledge=self.knowledge,
        )

    async def stop_chat(self) -> None:
        """Close the chat memory's pools (opened on the running event loop by `start_chat`) and
        stop a local model's server, so an app that started the chat on services it was handed
        leaves no connection, port or model behind."""
        if self.warm_up is not None:
            self.warm_up.cancel()
        if self.memory is not None:
            await self.memory.close()
        if self.chat is not None:
            self.chat.tracing.flush()
        if self.llm is not None:  # stops a local model's server and frees its port
            await asyncio.to_thread(self.llm.close)
        self.memory = self.chat = self.llm = self.warm_up = None

    async def aclose(self) -> None:
        """Close the chat memory, the cache and the pool."""
        await self.stop_chat()
        if self.technical.recorder is not None:  # serves counted since the last write
            await self.technical.recorder.flush()
        self.jobs.close()
        await self.limiter.close()
        await self.cache.close()
        self.db.close()
