"""Model training and evaluation: walk-forward first, then a final fit, register, promote if better.

Called by the CLI and by background jobs, never inside a request. A candidate becomes champion
only if its walk-forward MAE (horizon 1) beats the champion's on the same evaluation window;
when the windows differ, the champion's configuration is re-evaluated on the candidate's window.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent.errors import NotFoundError
from agent.services.forecast import ForecastService
from knowledge.market.repository import PriceRepository
from knowledge.market.symbols import resolve
from knowledge.models.registry import ModelRegistry, ModelVersion

log = logging.getLogger(__name__)
EVAL_HORIZONS = (1, 7, 30)
PARTIAL = ".partial"
EpochProgress = Callable[[int, float, float], None]
FoldProgress = Callable[[int, int], None]


@dataclass
class TrainProgress:
    """Callbacks a front-end passes to show progress (per fold, then per epoch)."""

    on_fold: FoldProgress | None = None
    on_epoch: EpochProgress | None = None
    on_stage: Callable[[str], None] | None = None

    def stage(self, text: str) -> None:
        if self.on_stage:
            self.on_stage(text)


@dataclass
class TrainOutcome:
    """What a training run produced and decided."""

    symbol: str
    version: int
    promoted: bool
    reason: str
    metrics: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "version": self.version,
            "promoted": self.promoted,
            "reason": self.reason,
            "metrics": self.metrics,
        }


def _clear_partials(folder: Path) -> None:
    """Remove artifact folders a killed training left half written (never registered)."""
    if folder.is_dir():
        for leftover in folder.glob(f"*{PARTIAL}"):
            shutil.rmtree(leftover, ignore_errors=True)


def _no_data(symbol: str) -> NotFoundError:
    return NotFoundError(
        f"No daily data stored for {symbol}: import or refresh it before training."
    )


def _metrics(report: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    metrics = {str(m.horizon): m.model_dump() for m in report.metrics}
    baseline = {
        str(m.horizon): {
            "name": "naive",
            "mape": m.naive_mape,
            "rmse": m.naive_rmse,
            "mae": m.naive_mae,
        }
        for m in report.metrics
    }
    return metrics, baseline


class TrainingService:
    """Trains, evaluates and registers models; keeps the registry's promotion rule."""

    def __init__(
        self,
        prices: PriceRepository,
        registry: ModelRegistry,
        forecasts: ForecastService,
        model_dir: Path,
        *,
        eval_days: int = 180,
        refit_every: int = 30,
        config: Any = None,
        on_registry_change: Callable[[], Any] | None = None,
    ) -> None:
        self.prices = prices
        self.registry = registry
        self.forecasts = forecasts
        self.model_dir = model_dir
        self.eval_days = eval_days
        self.refit_every = refit_every
        self.config = config
        self.on_registry_change = on_registry_change

    def _config(self) -> Any:
        from tools.forecast import DEFAULT_CONFIG

        return self.config or DEFAULT_CONFIG

    def _bars(self, symbol: str) -> Any:
        bars = self.prices.read(symbol, "1d")
        if bars.empty:
            raise _no_data(symbol)
        return bars

    def evaluation_window(self, bars: Any) -> dict[str, Any]:
        """The last `eval_days` days of the stored bars (the window every candidate is scored on)."""
        end = bars.index[-1].date()
        start = end - timedelta(days=self.eval_days - 1)
        return {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "horizons": list(EVAL_HORIZONS),
            "refit_every": self.refit_every,
            "window": "expanding",
        }

    def evaluate(
        self,
        symbol_text: str,
        start: Any,
        end: Any,
        *,
        config: Any = None,
        horizons: Sequence[int] = EVAL_HORIZONS,
        progress: TrainProgress | None = None,
    ) -> Any:
        """A walk-forward report on [start, end] (training only on days before each fold)."""
        from tools.forecast import walk_forward

        symbol = resolve(symbol_text).symbol
        bars = self._bars(symbol)
        fold = progress.on_fold if progress else None
        return walk_forward(
            bars,
            config or self._config(),
            start=start,
            end=end,
            horizons=horizons,
            refit_every=self.refit_every,
            progress=(lambda i, n, _info: fold(i, n)) if fold else None,
        )

    def train(self, symbol_text: str, progress: TrainProgress | None = None) -> TrainOutcome:
        """Walk-forward evaluation, final fit on all stored bars, register, promote if better."""
        from tools.forecast import save_model, train_model

        progress = progress or TrainProgress()
        symbol = resolve(symbol_text).symbol
        bars = self._bars(symbol)
        config = self._config()
        window = self.evaluation_window(bars)
        progress.stage(f"{symbol}: walk-forward {window['start']}..{window['end']}")
        report = self.evaluate(
            symbol, window["start"], window["end"], config=config, progress=progress
        )
        metrics, baseline = _metrics(report)
        progress.stage(f"{symbol}: final fit on all {len(bars)} bars")
        trained = train_model(bars, config, progress=progress.on_epoch)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        folder = self.model_dir / symbol / f"{stamp}-{uuid.uuid4().hex[:6]}"
        _clear_partials(self.model_dir / symbol)  # a run killed mid-save left one (one per coin)
        partial = folder.with_name(folder.name + PARTIAL)
        save_model(trained, partial, metrics=metrics)
        os.replace(partial, folder)  # the registry only ever names a complete folder
        candidate = self.registry.register(
            symbol,
            train_start=trained.train_start.date(),
            train_end=trained.train_end.date(),
            hyperparams=config.model_dump(mode="json"),
            data_fingerprint=trained.fingerprint,
            eval_window=window,
            metrics=metrics,
            baseline=baseline,
            artifact_path=str(folder),
        )
        promoted, reason = self._decide(symbol, candidate, bars, progress)
        if promoted:
            self.registry.promote(symbol, candidate.version)
        else:
            self.registry.set_notes(symbol, candidate.version, reason)
        log.info("trained %s v%s: %s", symbol, candidate.version, reason)
        if self.on_registry_change is not None:
            self.on_registry_change()  # e.g. re-index the model cards
        return TrainOutcome(symbol, candidate.version, promoted, reason, metrics)

    def _decide(
        self, symbol: str, candidate: ModelVersion, bars: Any, progress: TrainProgress
    ) -> tuple[bool, str]:
        """Promotion rule: beat the champion's horizon-1 MAE on the same window."""
        champion = self.registry.champion(symbol)
        mae = float(candidate.metrics["1"]["mae"])
        if champion is None:
            return (
                True,
                f"first model for {symbol}: promoted (MAE {mae:.6g} on {candidate.eval_window['start']}..{candidate.eval_window['end']})",
            )
        if champion.eval_window == candidate.eval_window:
            champion_mae = float(champion.metrics["1"]["mae"])
        else:
            from tools.forecast import ForecastConfig

            progress.stage(
                f"{symbol}: re-evaluating champion v{champion.version} on the same window"
            )
            report = self.evaluate(
                symbol,
                candidate.eval_window["start"],
                candidate.eval_window["end"],
                config=ForecastConfig.model_validate(champion.hyperparams),
                progress=progress,
            )
            champion_mae = float(report.metrics_for(1).mae)
        if mae < champion_mae:
            return True, f"beats champion v{champion.version}: MAE {mae:.6g} < {champion_mae:.6g}"
        return (
            False,
            f"kept as candidate: MAE {mae:.6g} does not beat champion v{champion.version} ({champion_mae:.6g})",
        )

    def promote(self, symbol_text: str, version: int) -> ModelVersion:
        """Make a version the champion by hand (the CLI's `models promote`)."""
        return self.registry.promote(resolve(symbol_text).symbol, version)

    def require_data(self, symbol: str) -> None:
        """Raise NotFoundError now when `symbol` has no daily bars, so a job is not started."""
        if self.prices.last_timestamp(symbol, "1d") is None:
            raise _no_data(symbol)

    def symbols_with_data(self) -> list[str]:
        """Symbols that have daily bars stored (what `--all` trains)."""
        return sorted({c.symbol for c in self.prices.coverage() if c.interval == "1d"})

    def drifted(self, symbols: Sequence[str] | None = None) -> list[str]:
        """Symbols whose champion shows input or performance drift (or has no champion)."""
        wanted = [resolve(s).symbol for s in symbols] if symbols else self.symbols_with_data()
        return [
            s
            for s in wanted
            if self.forecasts.drift(s)["flag"] or self.registry.champion(s) is None
        ]
