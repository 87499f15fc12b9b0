"""The one configuration class, read from the environment (and `.env`), validated at start-up.

Every variable is documented in `.env.example` and the README's configuration table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from agent.operations_settings import OperationsSettings

# providers whose servers honour a JSON-schema `response_format` (constrained decoding)
SCHEMA_PROVIDERS = ("openai", "local", "ollama")


class Settings(BaseSettings, OperationsSettings):
    """Runtime configuration; unset optional services fall back to embedded ones."""

    # env_ignore_empty: `VAR=` (as in .env.example) means "use the default", never ""
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", case_sensitive=False, env_ignore_empty=True
    )

    # storage
    database_url: SecretStr | None = Field(
        default=None, description="postgresql://... ; unset = embedded Postgres in DATA_HOME"
    )
    data_home: Path = Field(default=Path("var"), description="local state: embedded db, models")
    db_pool_min: int = Field(default=1, ge=1, le=50)
    db_pool_max: int = Field(default=10, ge=1, le=200)
    db_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    redis_url: SecretStr | None = Field(
        default=None, description="redis://... ; unset = in-process"
    )
    cache_ttl_seconds: int = Field(default=300, ge=1, le=86_400)

    # market data
    crypto_data_dir: Path | None = Field(default=None, description="folder of OHLCV CSV files")
    market_provider: Literal["yfinance", "none"] = "yfinance"
    provider_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    provider_retries: int = Field(default=3, ge=0, le=10)
    stale_after_hours: float = Field(default=36.0, gt=0)
    load_data_on_start: bool = True

    # models
    model_dir: Path | None = Field(
        default=None, description="model artifacts; default DATA_HOME/models"
    )

    # forecasting
    forecast_eval_days: int = Field(
        default=180, ge=30, le=1000, description="walk-forward window before each new model"
    )
    forecast_refit_every: int = Field(default=30, ge=1, le=365)
    forecast_epochs: int | None = Field(default=None, ge=1, le=1000, description="None = default")
    forecast_preload: bool = Field(
        default=False,
        description="Load every champion at start-up (TensorFlow in memory from the start) "
        "instead of on the first forecast of each coin.",
    )

    # news sentiment
    sentiment_backend: Literal["auto", "transformers", "embedding", "lexicon"] = Field(
        default="auto",
        description="auto = transformers model if local, else a trained embedding head, else lexicon",
    )
    sentiment_model: str = Field(
        default="ProsusAI/finbert",
        description="HF model id (local cache only, never downloaded) or folder",
    )
    sentiment_label_map: str | None = Field(
        default=None, description="for LABEL_0.. models: LABEL_0=bearish,LABEL_1=neutral,..."
    )
    sentiment_batch_size: int = Field(default=16, ge=1, le=512)
    sentiment_max_length: int = Field(default=256, ge=16, le=512)
    sentiment_half_life_hours: float = Field(default=48.0, gt=0, le=2160)
    news_feeds: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "https://www.coindesk.com/arc/outboundfeeds/rss/",
            "https://cointelegraph.com/rss",
            "https://decrypt.co/feed",
        ]
    )
    news_subreddits: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["CryptoCurrency", "Bitcoin", "ethereum"]
    )
    news_reddit_base_url: str = "https://www.reddit.com"
    news_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    news_host_delay_seconds: float = Field(default=2.0, ge=0, le=60)
    news_user_agent: str = "crypto-assistant/0.1 (news sentiment reader)"
    news_max_items_per_feed: int = Field(default=100, ge=1, le=1000)

    # api
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65_535)
    admin_api_key: SecretStr | None = None
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    rate_limit_data_per_minute: int = Field(default=120, ge=1, le=100_000)
    rate_limit_chat_per_minute: int = Field(default=20, ge=1, le=100_000)
    rate_limit_admin_per_minute: int = Field(default=10, ge=1, le=100_000)
    trust_forwarded_for: bool = Field(default=False, description="behind a reverse proxy")
    max_body_bytes: int = Field(default=1_000_000, ge=1024, le=100_000_000)
    max_query_chars: int = Field(default=2048, ge=64, le=65_536)
    body_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="longest wait for the next chunk of a body (408)"
    )
    max_in_flight_per_client: int = Field(
        default=2, ge=1, le=100, description="concurrent POST /sentiment requests per client (429)"
    )
    sentiment_max_request_chars: int = Field(
        default=100_000,
        ge=5_000,
        le=500_000,
        description="total characters of POST /sentiment texts",
    )

    # web chat (Chainlit at /ui)
    chainlit_auth_secret: SecretStr | None = Field(
        default=None, description="signs web chat logins; unset = kept in DATA_HOME"
    )
    web_user_header: str | None = Field(
        default=None, description="header naming the user (trusted proxy); unset = one local user"
    )

    # LLM and tracing
    llm_model: str | None = Field(
        default=None, description="e.g. openai:gpt-4.1-mini; unset = offline"
    )
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    anthropic_api_key: SecretStr | None = None
    llm_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    llm_max_retries: int = Field(default=1, ge=0, le=5)
    llm_max_tokens: int = Field(default=6000, ge=256, le=200_000, description="per turn")
    llm_tool_mode: Literal["auto", "native", "schema"] = Field(
        default="auto",
        description="native = the provider's tool calling; schema = the model fills a JSON "
        "schema of the tool table under constrained decoding; auto = schema for local:, "
        "ollama: and an OPENAI_BASE_URL on this machine, native otherwise",
    )
    llm_ask: Literal["unsure", "always"] = Field(
        default="unsure", description="unsure = the keyless router answers when it is confident"
    )
    llm_schema_answer: Literal["composer", "model"] = Field(
        default="composer", description="schema mode: who writes the answer from the results"
    )
    local_llm_context: int = Field(default=4096, ge=512, le=131_072, description="local: tokens")
    local_llm_threads: int | None = Field(
        default=None, ge=1, le=256, description="local: CPU threads; unset = every core"
    )
    ollama_base_url: str | None = Field(default=None, description="unset = localhost:11434")

    # limits of one chat turn
    max_tool_calls: int = Field(default=8, ge=1, le=50)
    tool_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    turn_timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    max_message_chars: int = Field(default=2000, ge=10, le=20_000)
    history_messages: int = Field(default=20, ge=2, le=200, description="kept per thread")

    langsmith_tracing: bool = False
    langsmith_api_key: SecretStr | None = None
    langsmith_endpoint: str | None = None
    langsmith_project: str = "crypto-assistant"

    # Telegram
    telegram_bot_token: SecretStr | None = None
    telegram_allowed_users: Annotated[list[int], NoDecode] = Field(default_factory=list)
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_url: str | None = Field(
        default=None, description="public https URL of /telegram/webhook; unset = polling"
    )
    telegram_api_base_url: str | None = Field(
        default=None, description="Bot API base URL; unset = Telegram's own"
    )
    telegram_rate_limit_per_minute: int = Field(default=10, ge=1, le=600)
    telegram_poll_in_api: bool = Field(
        default=True, description="without a webhook URL, `serve` also polls for updates"
    )

    # alerts
    alert_urls: SecretStr | None = Field(
        default=None, description="comma-separated apprise URLs (slack://, mailtos://, json://)"
    )
    alert_telegram_chat_id: int | None = Field(
        default=None, description="Telegram admin chat for alerts (needs TELEGRAM_BOT_TOKEN)"
    )
    alert_cooldown_minutes: int = Field(
        default=360, ge=1, le=43_200, description="re-send an active alert at most this often"
    )
    alert_job_failures: int = Field(
        default=3, ge=1, le=100, description="failed runs in a row of a task before an alert"
    )

    @field_validator("database_url")
    @classmethod
    def _postgres_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip() == "":
            return None
        if value is not None and not value.get_secret_value().startswith(
            ("postgresql://", "postgres://")
        ):
            raise ValueError("must start with postgresql:// (or be unset for the embedded server)")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip() == "":
            return None
        if value is not None and not value.get_secret_value().startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError("must start with redis://, rediss:// or unix:// (or be unset)")
        return value

    @field_validator("chainlit_auth_secret", "alert_urls")
    @classmethod
    def _empty_secret_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip() == "":
            return None
        return value

    @field_validator("web_user_header")
    @classmethod
    def _header_name(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        name = value.strip()
        if not all(c.isascii() and (c.isalnum() or c in "-_") for c in name):
            raise ValueError("must be an HTTP header name such as X-Forwarded-User")
        return name

    @field_validator("crypto_data_dir", "model_dir", mode="before")
    @classmethod
    def _empty_dir_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator(
        "cors_origins", "telegram_allowed_users", "news_feeds", "news_subreddits", mode="before"
    )
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("llm_model")
    @classmethod
    def _provider_prefixed(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if ":" not in value:
            raise ValueError("must be provider:model, e.g. openai:gpt-4.1-mini or ollama:llama3.1")
        provider, _, model = value.partition(":")
        if provider == "local" and not model.strip():
            raise ValueError("must name the model file: local:PATH.gguf")
        return value

    @model_validator(mode="after")
    def _schema_mode_provider(self) -> Settings:
        provider = (self.llm_model or "").partition(":")[0]
        if self.llm_tool_mode == "schema" and provider not in ("", *SCHEMA_PROVIDERS):
            raise ValueError(
                "LLM_TOOL_MODE=schema needs an OpenAI-compatible server (openai:, local:) or "
                f"ollama:, not {provider}:"
            )
        return self

    @property
    def resolved_model_dir(self) -> Path:
        """Where model artifacts live."""
        return self.model_dir or self.data_home / "models"

    @property
    def embedded_pgdata(self) -> Path:
        """Data folder of the embedded Postgres (kept across restarts)."""
        return self.data_home / "pgdata"


class SettingsError(Exception):
    """Configuration cannot be used; the message lists each bad variable."""


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's report into one readable message per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]).upper() or "settings"
            lines.append(f"  {name}: {err['msg']}")
        raise SettingsError("Invalid configuration:\n" + "\n".join(lines)) from None
