"""Forecast serving: the champion model per symbol, loaded once and kept warm; the ledger;
realised accuracy; drift. Training lives in `agent.services.training` and never runs in a request."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio

from agent.errors import ModelNotTrainedError, ModelUnavailableError
from agent.services.stance_calls import StanceLedger, stance_calls
from knowledge.market.repository import PriceRepository
from knowledge.market.symbols import resolve
from knowledge.models.ledger import LedgerEntry, PredictionLedger
from knowledge.models.registry import ModelRegistry, ModelVersion
from tools.errors import InsufficientDataError, ModelArtifactError

HISTORY_BARS = 600  # enough for the window and the features' look-back
log = logging.getLogger(__name__)


def artifact_problem(exc: ModelArtifactError, folder: str | Path) -> str:
    """What is wrong with an artifact, for users: no server paths, no library internals."""
    text = str(exc).replace(f"model artifact folder {folder} ", "the artifact folder ")
    text = text.replace(f"model artifact {folder}: ", "")
    return re.sub(r" \(.*\)$", "", text, flags=re.DOTALL)


def train_command(symbol: str) -> str:
    """The command that trains a model for `symbol` (quoted in 409 answers)."""
    return f"crypto-assistant models train {symbol}"


def metrics_horizon(metrics: dict[str, Any], horizon: int) -> str | None:
    """The evaluated horizon closest to `horizon` from below (1 if none is below)."""
    evaluated = sorted(int(h) for h in metrics)
    if not evaluated:
        return None
    below = [h for h in evaluated if h <= horizon]
    return str(below[-1] if below else evaluated[0])


class ForecastService:
    """Forecasts from the registry's champions; every served forecast goes to the ledger."""

    def __init__(
        self,
        prices: PriceRepository,
        registry: ModelRegistry,
        ledger: PredictionLedger,
        model_dir: Path,
        *,
        training_job: Callable[[str], Any] | None = None,
        stances: StanceLedger | None = None,
    ) -> None:
        self.prices = prices
        self.stances = stances  # the stances served: the `calls` section
        self.training_job = training_job  # the queued or running training of a coin, if any
        self.registry = registry
        self.ledger = ledger
        self.model_dir = model_dir
        self._warm: dict[str, tuple[int, Any]] = {}
        self._lock = threading.Lock()

    def _champion(self, symbol: str) -> ModelVersion:
        champion = self.registry.champion(symbol)
        if champion is None:
            job = self.training_job(symbol) if self.training_job else None
            if job is not None:
                raise ModelNotTrainedError(being_trained(symbol, job))
            raise ModelNotTrainedError(
                f"No forecasting model for {symbol} yet. Train one with "
                f"`{train_command(symbol)}` (or POST /models/{symbol}/train with the admin key)."
            )
        return champion

    def model_for(self, champion: ModelVersion) -> Any:
        """The champion's TrainedModel, loaded once per version (thread-safe)."""
        from tools.forecast import load_model

        with self._lock:
            warm = self._warm.get(champion.symbol)
            if warm is not None and warm[0] == champion.version:
                return warm[1]
            try:
                model = load_model(champion.artifact_path)
            except ModelArtifactError as exc:
                log.error("champion artifact unusable: %s", exc)  # full detail, with the path
                problem = artifact_problem(exc, champion.artifact_path)
                raise ModelUnavailableError(
                    f"The {champion.symbol} model v{champion.version} cannot be loaded "
                    f"({problem}). "
                    f"The registry is unchanged; retrain with `{train_command(champion.symbol)}`."
                ) from None
            self._warm[champion.symbol] = (champion.version, model)
            return model

    def warm_up(self) -> list[str]:
        """Load every champion now (start-up), so the first forecast is fast."""
        loaded = []
        for version in self.registry.versions():
            if version.status == "champion":
                try:
                    self.model_for(version)
                    loaded.append(version.symbol)
                except ModelUnavailableError:
                    continue
        return loaded

    async def forecast(self, symbol_text: str, horizon_days: int = 7) -> dict[str, Any]:
        """Prices for the next `horizon_days` with an interval, beside the model's skill."""
        coin = resolve(symbol_text)
        return await anyio.to_thread.run_sync(self._forecast, coin.symbol, horizon_days)

    def _forecast(self, symbol: str, horizon: int) -> dict[str, Any]:
        champion = self._champion(symbol)
        model = self.model_for(champion)
        bars = self.prices.read(symbol, "1d", limit=HISTORY_BARS)
        try:
            result = model.predict(bars, horizon=horizon)
        except ModelArtifactError as exc:
            raise ModelUnavailableError(f"The {symbol} model failed: {exc}") from None
        except InsufficientDataError as exc:
            raise InsufficientDataError(f"{symbol}: {exc}") from None
        origin = result.as_of.date()
        self.ledger.record(
            symbol,
            champion.version,
            [
                LedgerEntry(origin, p.date, h, result.last_close, p.price, p.lower, p.upper)
                for h, p in enumerate(result.points, start=1)
            ],
        )
        key = metrics_horizon(champion.metrics, horizon)
        metrics = champion.metrics.get(key, {}) if key else {}
        skill = metrics.get("skill")
        return {
            "symbol": symbol,
            "as_of": origin.isoformat(),
            "last_close": result.last_close,
            "model_version": f"v{champion.version}",
            "horizon_days": horizon,
            "interval_level": result.interval_level,
            "predictions": [
                {"date": p.date.isoformat(), "price": p.price, "lower": p.lower, "upper": p.upper}
                for p in result.points
            ],
            "metrics_horizon": int(key) if key else None,
            "evaluation": champion.eval_window,
            "metrics": {
                k: metrics.get(k)
                for k in (
                    "mape",
                    "rmse",
                    "mse",
                    "mae",
                    "directional_accuracy",
                    "coverage",
                    "up_share",
                )
            },
            "baseline": {
                "name": "naive",
                "mape": metrics.get("naive_mape"),
                "rmse": metrics.get("naive_rmse"),
                "mae": metrics.get("naive_mae"),
            },
            "skill_vs_naive": skill,
            "has_skill": bool(skill is not None and skill > 0),
        }

    async def chart(self, served: dict[str, Any]) -> Any:
        """A served forecast (the result of `forecast`) as a Plotly figure: recent closes, the
        predicted path and its band. It draws what was served: no new forecast, no ledger entry."""
        from tools.forecast.figure import forecast_figure

        bars = await anyio.to_thread.run_sync(
            lambda: self.prices.read(served["symbol"], "1d", limit=120)
        )
        return forecast_figure(bars, served)

    async def accuracy(self, symbol_text: str, period_days: int = 30) -> dict[str, Any]:
        """Realised accuracy of served forecasts over a period, and the champion's backtest."""
        coin = resolve(symbol_text)
        return await anyio.to_thread.run_sync(self._accuracy, coin.symbol, period_days)

    def _accuracy(self, symbol: str, period_days: int) -> dict[str, Any]:
        self.ledger.score(symbol)
        since = datetime.now(UTC).date() - timedelta(days=period_days)
        champion = self.registry.champion(symbol)
        realized = {str(h): self.ledger.realized(symbol, since, horizon=h) for h in (1, 7)}
        return {
            "symbol": symbol,
            "period_days": period_days,
            "since": since.isoformat(),
            "realized": realized,
            "realized_all_time": self.ledger.realized(symbol),
            "calls": stance_calls(self.stances, symbol, period_days) if self.stances else None,
            "champion": f"v{champion.version}" if champion else None,
            "backtest": {
                "window": champion.eval_window,
                "metrics": {
                    h: {
                        k: m.get(k)
                        for k in (
                            "mape",
                            "mae",
                            "skill",
                            "directional_accuracy",
                            "coverage",
                            "naive_mape",
                        )
                    }
                    for h, m in champion.metrics.items()
                },
            }
            if champion
            else None,
        }

    def drift(self, symbol: str) -> dict[str, Any]:
        """Input drift (recent returns vs the champion's training window) and performance drift."""
        from tools.forecast import performance_drift, return_drift

        champion = self.registry.champion(symbol)
        if champion is None:
            return {
                "input": None,
                "performance": None,
                "flag": False,
                "detail": "no champion model",
            }
        bars = self.prices.read(symbol, "1d")
        try:
            inputs: dict[str, Any] | None = return_drift(
                bars, train_start=champion.train_start, train_end=champion.train_end
            ).model_dump()
            detail = ""
        except InsufficientDataError as exc:
            inputs, detail = None, f"input drift not measurable yet: {exc}"
        performance = performance_drift(self.ledger.scored(symbol, horizon=1)).model_dump()
        flag = bool((inputs or {}).get("drift")) or bool(performance["flag"])
        return {"input": inputs, "performance": performance, "flag": flag, "detail": detail}

    async def model_metrics(self, symbol_text: str) -> dict[str, Any]:
        """Everything `/model-metrics` shows: champion, versions, drift, realised accuracy."""
        coin = resolve(symbol_text)
        return await anyio.to_thread.run_sync(self._model_metrics, coin.symbol)

    def _model_metrics(self, symbol: str) -> dict[str, Any]:
        self.ledger.score(symbol)
        versions = self.registry.versions(symbol)
        champion = next((v for v in versions if v.status == "champion"), None)
        return {
            "symbol": symbol,
            "champion": f"v{champion.version}" if champion else None,
            "versions": [v.as_dict() for v in versions],
            "drift": self.drift(symbol),
            "ledger": self.ledger.realized(symbol),
            "calls": stance_calls(self.stances, symbol, 90) if self.stances else None,
        }

    def summary(self) -> dict[str, Any]:
        """Registry summary for /system-status: versions and champions per symbol, drift flags."""
        versions = self.registry.versions()
        champions = {v.symbol: f"v{v.version}" for v in versions if v.status == "champion"}
        drift = {}
        for symbol in champions:
            try:
                drift[symbol] = self.drift(symbol)["flag"]
            except Exception as exc:  # a drift check must not break the status page
                drift[symbol] = f"unavailable: {exc}"
        return {
            "registered": len(versions),
            "champions": champions,
            "warm": sorted(self._warm),
            "drift_flags": drift,
        }


def being_trained(symbol: str, job: Any, now: float | None = None) -> str:
    """What a forecast question hears while its coin's first model is queued or training."""
    now = time.time() if now is None else now
    if job.status == "running" and job.started_at:
        since = datetime.fromtimestamp(job.started_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        minutes = max(0, round((now - job.started_at) / 60))
        stage = (job.progress or {}).get("stage")
        return (
            f"The forecasting model for {symbol} is being trained: started {since} "
            f"({minutes} min ago){f', now at: {stage}' if stage else ''}. "
            "Ask again when it has finished; no forecast is given before it is evaluated."
        )
    since = datetime.fromtimestamp(job.created_at or now, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"A forecasting model for {symbol} is queued for training since {since}; it starts "
        "when a worker is free. Ask again when it has finished."
    )
