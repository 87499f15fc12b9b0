"""Response models of the forecasting, sentiment-trend and status routes: the documented shape
of each answer. Each model allows extra fields, so a field a service adds later is sent (and
should be documented here) rather than silently dropped."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Open(BaseModel):
    """A documented object that keeps fields not listed."""

    model_config = ConfigDict(extra="allow")


class ForecastPoint(Open):
    date: str
    price: float
    lower: float
    upper: float


class ForecastMetrics(Open):
    mape: float | None = None
    rmse: float | None = None
    mse: float | None = None
    mae: float | None = None
    directional_accuracy: float | None = None
    coverage: float | None = None
    up_share: float | None = None


class Baseline(Open):
    name: str
    mape: float | None = None
    rmse: float | None = None
    mae: float | None = None


class Forecast(Open):
    """The champion's forecast from the latest close, with its out-of-sample record."""

    symbol: str
    as_of: str
    last_close: float
    model_version: str
    horizon_days: int
    interval_level: float
    predictions: list[ForecastPoint]
    metrics_horizon: int | None
    evaluation: dict[str, Any] | None
    metrics: ForecastMetrics
    baseline: Baseline
    skill_vs_naive: float | None
    has_skill: bool


class ModelVersion(Open):
    version: int
    trained_at: str
    train_start: str
    train_end: str
    hyperparams: dict[str, Any]
    data_fingerprint: str | None
    eval_window: dict[str, Any] | None
    metrics: dict[str, Any]
    baseline: dict[str, Any] | None
    status: str
    notes: str | None


class Drift(Open):
    input: Any = None
    performance: Any = None
    flag: bool
    detail: str | None = None


class ModelMetrics(Open):
    """Every registered version, the drift checks and the ledger's realised accuracy."""

    symbol: str
    champion: str | None
    versions: list[ModelVersion]
    drift: Drift
    ledger: dict[str, Any]
    calls: dict[str, Any] | None = None  # the technical stances served and how they did


class TrendDay(Open):
    date: str
    score: float | None
    label: str | None
    confidence: float | None
    n: int


class SentimentTrend(Open):
    """The daily news-sentiment series over the window ending at `as_of`."""

    symbol: str
    name: str
    as_of: str
    model: str | None
    models: dict[str, int]
    n: int
    days: list[TrendDay]
    message: str | None


class ChatCounters(Open):
    mode: str
    turns: dict[str, int]
    tool_calls: dict[str, int]


class SystemStatus(Open):
    """Uptime, counters, data freshness and models; build details with the admin key only
    (`versions` beyond `app`, the cache and rate-limiter backends)."""

    uptime_seconds: float
    versions: dict[str, str | None]
    requests: dict[str, int]
    cache: dict[str, Any]
    chat: ChatCounters
    jobs: dict[str, Any]
    models: dict[str, Any]
    data: list[dict[str, Any]]


class JobAccepted(Open):
    """A background job was started: where to poll it."""

    job_id: str
    status: str
    status_url: str


class JobStatus(Open):
    """A job's state, progress while it runs, attempts, and once finished its outcome or error."""

    id: str
    kind: str
    params: dict[str, Any]
    status: str
    attempts: int
    queue: str
    created_at: float | None
    started_at: float | None
    finished_at: float | None
    progress: dict[str, Any] | None = None
    result: Any = None
    error: str | None = None


class JobList(Open):
    """The newest jobs first, from the shared queue (every replica answers the same)."""

    jobs: list[JobStatus]
    counts: dict[str, int]


class Index(Open):
    """The service's name, version, documentation links and endpoints."""

    name: str
    version: str
    docs: str
    openapi: str
    endpoints: list[str]
