"""The alert conditions, built from the services: drift, stale series, champion regressions,
repeated job failures and failed backups. Each is a `Condition(key, active, message)`; a
message names the condition and its coin or series and says what to do.

Regression rule (per champion, on its own scored ledger forecasts at horizons 1 and 7; for 7,
only forecasts made at least 7 days apart, so their errors do not overlap): with at least
`MIN_POINTS` of its latest `WINDOW` forecasts scored, the champion has regressed when it is
  - worse than naive: realised skill (1 - MAE / naive MAE) below -`NAIVE_MARGIN`, or
  - worse than its walk-forward figures: realised skill more than `BACKTEST_DROP` below the
    skill its evaluation measured at that horizon,
and, in both cases, the paired per-forecast loss difference (|model error| minus the allowed
share of |naive error|) is positive with a t-statistic of at least `T_MIN`, so a handful of
unlucky days does not count as a regression (a one-sided Diebold-Mariano-style test).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from agent.core import Services
    from knowledge.models.registry import ModelVersion

log = logging.getLogger(__name__)

BACKUP_TASK = "backup"
HORIZONS = (1, 7)
WINDOW = 60
MIN_POINTS = 20
NAIVE_MARGIN = 0.05
BACKTEST_DROP = 0.10
T_MIN = 2.0
LEDGER_ROWS = 5000  # the latest ledger rows read per champion (every horizon served)


@dataclass(frozen=True)
class Condition:
    """One thing that can be wrong, under a stable key (`drift:BTC-USD`, `backup`, ...)."""

    key: str
    active: bool
    message: str


@dataclass(frozen=True)
class Regression:
    """The regression rule's verdict at one horizon; `versus` is None when not regressed."""

    horizon: int
    n: int
    skill: float
    backtest_skill: float | None
    versus: str | None


def _clearly_positive(diff: np.ndarray) -> bool:
    mean = float(diff.mean())
    if mean <= 0:
        return False
    sd = float(diff.std(ddof=1))
    return sd == 0 or mean / (sd / math.sqrt(len(diff))) >= T_MIN


def regression(
    points: Sequence[tuple[float, float, float]], backtest_skill: float | None, horizon: int = 1
) -> Regression | None:
    """The rule on (actual, predicted, naive) triples; None when too few to judge."""
    if len(points) < MIN_POINTS:
        return None
    actual, predicted, naive = np.asarray(points, dtype=float).T
    model_loss, naive_loss = np.abs(actual - predicted), np.abs(actual - naive)
    if float(naive_loss.mean()) == 0:
        return None
    skill = 1 - float(model_loss.mean()) / float(naive_loss.mean())
    versus = None
    if skill < -NAIVE_MARGIN and _clearly_positive(model_loss - naive_loss):
        versus = "naive"
    elif (
        backtest_skill is not None
        and skill < backtest_skill - BACKTEST_DROP
        and _clearly_positive(model_loss - (1 - backtest_skill) * naive_loss)
    ):
        versus = "walk-forward"
    return Regression(horizon, len(points), skill, backtest_skill, versus)


def ledger_points(
    entries: Iterable[Mapping[str, Any]], version: int, horizon: int
) -> list[tuple[float, float, float]]:
    """One model version's scored forecasts at `horizon`, newest first, origins `horizon` days
    apart at least, at most `WINDOW`."""
    rows = sorted(
        (
            e
            for e in entries
            if e["model_version"] == version and e["horizon"] == horizon and e["actual"] is not None
        ),
        key=lambda e: e["origin_date"],
        reverse=True,
    )
    points: list[tuple[float, float, float]] = []
    last: date | None = None
    for e in rows:
        if last is not None and (last - e["origin_date"]).days < horizon:
            continue
        points.append((float(e["actual"]), float(e["predicted"]), float(e["origin_close"])))
        last = e["origin_date"]
        if len(points) == WINDOW:
            break
    return points


def regression_condition(symbol: str, champion: Any, entries: list[dict[str, Any]]) -> Condition:
    """Has the champion's realised accuracy clearly fallen below naive or its evaluation?"""
    key, v = f"regression:{symbol}", champion.version
    verdicts = []
    for h in HORIZONS:
        backtest = (champion.metrics.get(str(h)) or {}).get("skill")
        backtest = float(backtest) if isinstance(backtest, int | float) else None
        verdict = regression(ledger_points(entries, v, h), backtest, h)
        if verdict is not None:
            verdicts.append(verdict)
    bad = [r for r in verdicts if r.versus]
    if not bad:
        judged = ", ".join(f"{r.horizon}-day skill {r.skill:+.0%}" for r in verdicts)
        return Condition(
            key,
            False,
            f"regression {symbol}: champion v{v} is in line with its evaluation"
            + (f" ({judged})." if judged else " (too few scored forecasts to judge)."),
        )
    parts = [
        f"its last {r.n} scored {r.horizon}-day forecasts have skill {r.skill:+.0%} vs naive"
        + (f" (walk-forward: {r.backtest_skill:+.0%})" if r.backtest_skill is not None else "")
        + f", clearly worse than {'naive' if r.versus == 'naive' else 'its walk-forward figures'}"
        for r in bad
    ]
    return Condition(
        key,
        True,
        f"regression {symbol}: champion v{v}: {'; '.join(parts)}. Retrain with "
        f"`crypto-assistant models train {symbol}`; /model-metrics {symbol} shows the ledger.",
    )


def drift_condition(symbol: str, version: int, report: Mapping[str, Any]) -> Condition:
    """Is drift flagged on the coin's champion (inputs or realised accuracy)?"""
    key = f"drift:{symbol}"
    if not report.get("flag"):
        return Condition(key, False, f"drift {symbol}: champion v{version} shows no drift now.")
    parts = []
    inputs, perf = report.get("input") or {}, report.get("performance") or {}
    if inputs.get("drift"):
        parts.append(
            f"recent daily returns differ from its training window (PSI {inputs['psi']:.2f}, "
            f"KS p={inputs['ks_pvalue']:.2g})"
        )
    if perf.get("flag"):
        parts.append(
            f"its last {perf['n']} 1-day forecasts erred {perf['ratio'] - 1:.0%} more than naive"
        )
    return Condition(
        key,
        True,
        f"drift {symbol}: champion v{version}: {'; '.join(parts)}. The drift check "
        "queues a retraining (`crypto-assistant jobs list --kind train_model`); or run "
        f"`crypto-assistant models train {symbol}`.",
    )


def stale_condition(symbol: str, interval: str, freshness: Any, limit_hours: float) -> Condition:
    """Is the newest stored bar of one series older than `STALE_AFTER_HOURS`?"""
    key, age = f"stale:{symbol}:{interval}", freshness.age_hours
    if age is None or age <= limit_hours:
        return Condition(
            key, False, f"stale data {symbol} {interval}: fresh again ({age or 0:.0f} h old)."
        )
    failed = f"; {freshness.reason}" if freshness.reason.startswith("refresh failed") else ""
    return Condition(
        key,
        True,
        f"stale data {symbol} {interval}: newest bar "
        f"{freshness.last_bar:%Y-%m-%d %H:%M} UTC is {age:.0f} h old (STALE_AFTER_HOURS="
        f"{limit_hours:g}){failed}. Check the market_refresh jobs (`crypto-assistant jobs list "
        f"--kind market_refresh`) and the provider, or run `crypto-assistant data refresh "
        f"{symbol} --interval {interval}`.",
    )


def job_conditions(failures: Mapping[str, int], threshold: int) -> list[Condition]:
    """A task failing `threshold` runs in a row; the backup task failing even once."""
    out = []
    for task, count in sorted(failures.items()):
        if task != BACKUP_TASK:
            out.append(
                Condition(
                    f"job_failures:{task}",
                    count >= threshold,
                    f"job failures {task}: its last {count} runs failed. See `crypto-assistant "
                    f"jobs list --kind {task} --status failed` and `crypto-assistant jobs show "
                    "ID` for the error; fix it, then `crypto-assistant jobs retry ID`."
                    if count >= threshold
                    else f"job failures {task}: its latest run succeeded.",
                )
            )
    count = failures.get(BACKUP_TASK, 0)
    runs = "backup" if count == 1 else f"{count} backups"
    failed = (
        f"backup: the last {runs} failed. Run `crypto-assistant db backup` to see the error "
        "(free space under DATA_HOME/backups, pg_dump version) and `crypto-assistant jobs list "
        "--kind backup --status failed`."
    )
    ok = "backup: the latest backup succeeded."
    return [*out, Condition(BACKUP_TASK, count > 0, failed if count else ok)]


def _checks(services: Services, now: datetime) -> list[tuple[str, Callable[[], Condition]]]:
    """(key, check) for every stored series and every champion."""
    market, forecasts = services.market, services.forecasts
    limit = market.stale_after.total_seconds() / 3600

    def stale(symbol: str, interval: str) -> Condition:
        return stale_condition(symbol, interval, market.freshness(symbol, interval, now), limit)

    def drift(champion: ModelVersion) -> Condition:
        report = forecasts.drift(champion.symbol)
        return drift_condition(champion.symbol, champion.version, report)

    def regressed(champion: ModelVersion) -> Condition:
        entries = forecasts.ledger.entries(champion.symbol, limit=LEDGER_ROWS)
        return regression_condition(champion.symbol, champion, entries)

    checks: list[tuple[str, Callable[[], Condition]]] = [
        (f"stale:{c.symbol}:{c.interval}", partial(stale, c.symbol, c.interval))
        for c in services.prices.coverage()
    ]
    for champion in (v for v in forecasts.registry.versions() if v.status == "champion"):
        checks.append((f"drift:{champion.symbol}", partial(drift, champion)))
        checks.append((f"regression:{champion.symbol}", partial(regressed, champion)))
    return checks


def gather_conditions(
    services: Services,
    *,
    consecutive_failures: Mapping[str, int],
    now: datetime | None = None,
    active_keys: Iterable[str] | None = None,
) -> list[Condition]:
    """Every condition now. `consecutive_failures`: task name -> failed runs in a row, most
    recent first (the backup task is `backup`). A check that fails leaves its key out (its
    alert stays as it was); an active alert whose subject is gone (`active_keys`, by default
    from `services.alerts`) is reported cleared."""
    now = now or datetime.now(UTC)
    try:
        services.forecasts.ledger.score()  # regressions judged on the latest closes
        checks = _checks(services, now)
    except Exception:
        log.warning("could not read what the alerts check", exc_info=True)
        checks, active_keys = [], ()  # nothing known: no alert is cleared for lack of a check
    found: dict[str, Condition] = {}
    failed: set[str] = set()
    for key, check in checks:
        try:
            found[key] = check()
        except Exception:
            log.warning("alert check %s failed", key, exc_info=True)
            failed.add(key)
    threshold = services.settings.alert_job_failures
    found.update((c.key, c) for c in job_conditions(consecutive_failures, threshold))
    if active_keys is None:
        alerts = getattr(services, "alerts", None)
        active_keys = alerts.active_keys() if alerts is not None else ()
    gone = "nothing left to check (no such coin, series, model or task any more)."
    for key in active_keys:
        if key not in found and key not in failed:
            found[key] = Condition(key, False, f"{key}: {gone}")
    return list(found.values())
