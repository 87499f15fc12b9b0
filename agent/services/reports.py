"""Forecast evaluation reports and the CI validation gate, for the command line and Jenkins."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agent.services.training import TrainingService


def write_evaluation(reports: Mapping[str, Any], folder: Path) -> dict[str, Path]:
    """Markdown and CSV tables plus a PNG per symbol (forecast vs actual, rolling error vs naive)."""
    from tools.forecast import write_report

    return write_report(reports, folder, title="Walk-forward evaluation against naive persistence")


def validate_models(
    training: TrainingService, symbols: Sequence[str], max_regression: float
) -> list[dict[str, Any]]:
    """Re-fit each symbol's current configuration walk-forward on its champion's window.

    A symbol regresses when the fresh horizon-1 skill against naive falls more than
    `max_regression` below the champion's, or below -`max_regression` (clearly worse than naive).
    """
    results = []
    for symbol in symbols:
        champion = training.registry.champion(symbol)
        if champion is None:
            bars = training.prices.read(symbol, "1d")
            window = training.evaluation_window(bars)
            champion_skill = None
        else:
            window = champion.eval_window
            champion_skill = float(champion.metrics["1"]["skill"])
        report = training.evaluate(symbol, window["start"], window["end"], horizons=(1,))
        skill = float(report.metrics_for(1).skill)
        regressed = skill < -max_regression or (
            champion_skill is not None and skill < champion_skill - max_regression
        )
        results.append(
            {
                "symbol": symbol,
                "window": window,
                "champion": f"v{champion.version}" if champion else None,
                "champion_skill": round(champion_skill, 4) if champion_skill is not None else None,
                "candidate_skill": round(skill, 4),
                "max_regression": max_regression,
                "verdict": "regressed" if regressed else "ok",
            }
        )
    return results
