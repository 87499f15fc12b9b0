"""Prometheus metrics: HTTP requests and latency, rate limiting, cache, tool calls, chat turns,
jobs (by state, durations, time since each scheduled task last succeeded, workers).

HTTP series are recorded by the gatekeeper middleware; the rest is read from the services at
scrape time, so `/metrics` always shows the live counters.
"""

from __future__ import annotations

from collections import Counter as PyCounter
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class ServicesCollector(Collector):
    """Reads counters kept by the services (cache, agent, jobs, rate limiter)."""

    def __init__(self, services: Callable[[], Any]) -> None:
        self._services = services

    def collect(self) -> Iterator[Metric]:
        services = self._services()
        if services is None:
            return
        stats = services.cache.stats
        cache = CounterMetricFamily(
            "cache_operations", "Cache operations by outcome", labels=["outcome"]
        )
        for outcome in ("hits", "misses", "errors", "bypassed"):
            cache.add_metric([outcome], getattr(stats, outcome))
        yield cache
        fallbacks = CounterMetricFamily(
            "rate_limiter_fallbacks", "Rate-limit checks counted in-process because Redis failed"
        )
        fallbacks.add_metric([], services.limiter.fallbacks)
        yield fallbacks
        chat = services.chat
        if chat is not None:
            tools = CounterMetricFamily("tool_calls", "Agent tool calls", labels=["tool", "ok"])
            for (name, ok), count in sorted(chat.tool_calls.items()):
                tools.add_metric([name, str(ok).lower()], count)
            yield tools
            turns = CounterMetricFamily("chat_turns", "Chat turns answered", labels=["mode"])
            for mode, count in sorted(chat.turns.items()):
                turns.add_metric([mode], count)
            yield turns
        yield from _job_metrics(services)


JOB_BUCKETS = (0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600)


def _job_metrics(services: Any) -> Iterator[Metric]:
    """Jobs by state, durations by task, seconds since each scheduled task last succeeded and
    live workers, read from the shared queue (so every replica reports the same)."""
    try:
        store = services.jobs.store
        durations = store.durations()
        overview = services.jobs.overview(
            services.settings, provider=services.market.provider is not None
        )
    except Exception:  # a scrape never fails because the database does
        return
    counts = overview["counts"]
    jobs = GaugeMetricFamily("background_jobs", "Jobs in the queue by state", labels=["status"])
    for status, count in sorted(counts.items()):
        jobs.add_metric([status], count)
    yield jobs
    histogram = HistogramMetricFamily(
        "job_duration_seconds", "Run time of finished jobs", labels=["task", "outcome"]
    )
    by_key: dict[tuple[str, str], list[float]] = {}
    for task, outcome, seconds in durations:
        by_key.setdefault((task, outcome), []).append(seconds)
    for (task, outcome), values in sorted(by_key.items()):
        buckets = [(str(b), sum(v <= b for v in values)) for b in JOB_BUCKETS]
        buckets.append(("+Inf", len(values)))
        histogram.add_metric([task, outcome], buckets, sum(values))
    yield histogram
    since = GaugeMetricFamily(
        "scheduled_task_seconds_since_success",
        "Seconds since each scheduled task last succeeded",
        labels=["schedule", "task"],
    )
    for entry in overview["schedule"]:
        if entry["seconds_since_success"] is not None:
            since.add_metric([entry["name"], entry["task"]], entry["seconds_since_success"])
    yield since
    workers = GaugeMetricFamily("job_workers", "Workers with a recent heartbeat")
    workers.add_metric([], overview["workers"])
    yield workers


class Metrics:
    """One registry per app, so several apps in a process (tests) never collide."""

    def __init__(self, services: Callable[[], Any]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.errors = Counter(
            "http_errors", "HTTP responses with status >= 500", ["route"], registry=self.registry
        )
        self.rate_limited = Counter(
            "rate_limited_requests", "Requests refused with 429", ["group"], registry=self.registry
        )
        self.by_status: PyCounter[str] = PyCounter()  # quick summary for /system-status
        self.registry.register(ServicesCollector(services))
        # the labelled children of each (method, route, status) seen: `labels()` per request
        # would validate and look them up again every time
        self._series: dict[tuple[str, str, int], tuple[Any, Any, Any, str]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one finished request."""
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(route),
                self.errors.labels(route) if status >= 500 else None,
                f"{status // 100}xx",
            )
        requests, latency, errors, status_class = series
        requests.inc()
        latency.observe(seconds)
        if errors is not None:
            errors.inc()
        self.by_status[status_class] += 1

    def render(self) -> bytes:
        return generate_latest(self.registry)
