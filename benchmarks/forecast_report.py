"""The published evaluation of the LSTM forecaster on BTC, ETH, SOL, BNB and XRP.

1. Tuning (with --tune): every candidate config is scored by a walk-forward over 2024 that
   trains only on data before each month; the shrinkage factor is then chosen on the same
   2024 rows. Nothing from 2025 is read. Without --tune the config chosen that way (CHOSEN
   below) is used.
2. Evaluation: walk-forward over 2025-01-01..2025-12-31 at horizons 1 and 7, refitting every
   30 days on an expanding window, beside naive persistence. The table is printed and written
   with one PNG per symbol to docs/forecast/.

    .venv/bin/python benchmarks/forecast_report.py [--tune] [--out docs/forecast] [--no-png]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench_technical_panel import load_bars  # noqa: E402

from tools.forecast import (  # noqa: E402
    EvaluationReport,
    ForecastConfig,
    evaluation_table,
    walk_forward,
    write_report,
)
from tools.forecast.report import markdown_table  # noqa: E402

PRICES = REPO.parent / "shared" / "data" / "prices"
SYMBOLS = ("BTC-USD", "ETH-USD", "SOL-USD", "BNB-USD", "XRP-USD")
TUNE_START, TUNE_END = "2024-01-01", "2024-12-31"
EVAL_START, EVAL_END = "2025-01-01", "2025-12-31"
HORIZONS = (1, 7)
REFIT_EVERY = 30

#: The starting point of the tuning: two LSTM layers, no shrinkage, volatility-scaled band.
BASE = ForecastConfig(
    units=(32, 16),
    dropout=0.2,
    learning_rate=1e-3,
    patience=5,
    loss="mae",
    shrinkage=1.0,
    features=("log_return", "range", "volume_z", "volatility", "sma_gap"),
    interval_scaling="volatility",
)
#: Candidates of the 2024 tuning (overrides of BASE).
CANDIDATES: dict[str, dict[str, Any]] = {
    "base: LSTM 32+16, dropout 0.2": {},
    "returns only": {"features": ("log_return",)},
    "all features": {
        "features": ("log_return", "range", "body", "volume_z", "volatility", "sma_gap", "rsi")
    },
    "slow learner: lr 3e-4, patience 10": {"learning_rate": 3e-4, "patience": 10},
    "huber loss": {"loss": "huber"},
    "small: LSTM 16, dropout 0.3": {"units": (16,), "dropout": 0.3},
    "smaller: LSTM 8, dropout 0.3": {"units": (8,), "dropout": 0.3},
    "small and slow": {"units": (16,), "dropout": 0.3, "learning_rate": 3e-4, "patience": 10},
}
SHRINKAGE_GRID = (0.1, 0.25, 0.5, 0.75, 1.0)

#: The outcome of `--tune` (see docs/forecast/tuning.md), which the defaults follow.
CHOSEN = ForecastConfig()


def shrunk_skill(report: EvaluationReport, horizon: int, factor: float) -> float:
    """Skill vs naive had every predicted log return been multiplied by `factor`."""
    rows = report.rows_frame(horizon)
    actual, naive = rows["actual"].to_numpy(), rows["naive"].to_numpy()
    predicted = naive * np.exp(factor * np.log(rows["predicted"].to_numpy() / naive))
    return float(1.0 - np.mean(np.abs(actual - predicted)) / np.mean(np.abs(actual - naive)))


def _log(message: str) -> None:
    print(message, flush=True)


def _walk_forward_task(
    symbol: str, bars: pd.DataFrame, config: ForecastConfig, start: str, end: str
) -> EvaluationReport:
    """One symbol's walk-forward (runs in a fresh worker process, see `run`)."""

    def progress(number: int, total: int, fold: Any) -> None:
        _log(
            f"  {symbol} fold {number}/{total}: train to {fold.train_end:%Y-%m-%d}, "
            f"{fold.epochs_run} epochs, {fold.training_seconds:.1f} s"
        )

    return walk_forward(
        bars,
        config,
        start=start,
        end=end,
        horizons=HORIZONS,
        refit_every=REFIT_EVERY,
        window="expanding",
        progress=progress,
    )


def run(
    bars_by_symbol: Mapping[str, pd.DataFrame], config: ForecastConfig, start: str, end: str
) -> dict[str, EvaluationReport]:
    """Walk-forward of `config` over [start, end] for every symbol.

    Each symbol runs in its own short-lived process: TensorFlow keeps every traced training
    graph for the life of a process (about 10-25 MB per fit), which would add up to many GB
    over a tuning grid. Results do not depend on this (seeded, deterministic kernels).
    """
    reports = {}
    context = multiprocessing.get_context("spawn")
    for symbol, bars in bars_by_symbol.items():
        began = time.perf_counter()
        with ProcessPoolExecutor(1, mp_context=context, max_tasks_per_child=1) as pool:
            job = pool.submit(_walk_forward_task, symbol, bars, config, start, end)
            reports[symbol] = job.result()
        _log(f"{symbol}: {time.perf_counter() - began:.0f} s")
    return reports


def tune(bars_by_symbol: Mapping[str, Any], out: Path) -> ForecastConfig:
    """Score every candidate and shrinkage on 2024 (data before 2025 only); return the best."""
    cutoff = pd.Timestamp(TUNE_END, tz="UTC") + pd.Timedelta(days=1)
    history = {s: b[b.index < cutoff] for s, b in bars_by_symbol.items()}
    lines = [
        "# Forecaster tuning on 2024 (walk-forward, monthly refits, data before 2025 only)\n",
        "Mean skill vs naive over the five coins at horizon 1 (percent), by candidate and",
        "shrinkage factor; the interval columns give the mean 80% coverage (no shrinkage).\n",
        "| candidate | "
        + " | ".join(f"λ={f}" for f in SHRINKAGE_GRID)
        + " | 7d skill λ=1 | coverage 1d | coverage 7d |",
        "|---|" + "---:|" * (len(SHRINKAGE_GRID) + 3),
    ]
    best: tuple[float, str, float] | None = None
    for name, overrides in CANDIDATES.items():
        _log(f"tuning candidate {name!r}: {overrides}")
        config = BASE.model_copy(update=overrides)
        reports = run(history, config, TUNE_START, TUNE_END)
        skills = [
            np.mean([shrunk_skill(r, 1, f) for r in reports.values()]) for f in SHRINKAGE_GRID
        ]
        week = np.mean([r.metrics_for(7).skill for r in reports.values()])
        cover = [np.mean([r.metrics_for(h).coverage for r in reports.values()]) for h in HORIZONS]
        lines.append(
            f"| {name} | "
            + " | ".join(f"{s * 100:+.2f}" for s in skills)
            + f" | {week * 100:+.2f} | {cover[0] * 100:.1f} | {cover[1] * 100:.1f} |"
        )
        for factor, value in zip(SHRINKAGE_GRID, skills, strict=True):
            if best is None or value > best[0]:
                best = (float(value), name, factor)
    assert best is not None
    chosen = BASE.model_copy(update={**CANDIDATES[best[1]], "shrinkage": best[2]})
    # the band method does not move the points: choose it by 2024 coverage of the winner
    raw = run(history, chosen.model_copy(update={"interval_scaling": "none"}), TUNE_START, TUNE_END)
    scaled = run(history, chosen, TUNE_START, TUNE_END)
    gaps = {}
    for method, reports in (("none", raw), ("volatility", scaled)):
        cover = [np.mean([r.metrics_for(h).coverage for r in reports.values()]) for h in HORIZONS]
        gaps[method] = float(np.mean([abs(c - chosen.interval_level) for c in cover]))
        lines.append(
            f"\nInterval `{method}`: mean coverage "
            + ", ".join(f"{h}d {c * 100:.1f}%" for h, c in zip(HORIZONS, cover, strict=True))
        )
    chosen = chosen.model_copy(update={"interval_scaling": min(gaps, key=lambda m: gaps[m])})
    lines.append(
        f"\nChosen: **{best[1]}** with shrinkage {best[2]} (2024 mean 1-day skill "
        f"{best[0] * 100:+.2f}%), interval `{chosen.interval_scaling}`; same as the package "
        f"defaults: {chosen == ForecastConfig()}.\n\n```json\n{chosen.model_dump_json(indent=2)}\n```\n"
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "tuning.md").write_text("\n".join(lines))
    _log("\n".join(lines))
    return chosen


def summary_notes(config: ForecastConfig, reports: Mapping[str, EvaluationReport]) -> str:
    """The explanation printed above the table in report.md."""
    beats = sum(r.metrics_for(1).skill > 0 for r in reports.values())
    return (
        f"Walk-forward {EVAL_START} to {EVAL_END}: every 30 days the model is refitted on all "
        "bars before the first test day (expanding window); each test day is predicted from "
        "the bars up to the day before (the origin). Horizon h scores the close h days after "
        "the origin, only when that day is in the window. Naive = the origin close. "
        "Skill = 1 - MAE/naive MAE. 'up-days %' is the share of rows where the price rose: "
        "an always-up guess scores exactly that direction accuracy. Coverage is the share of "
        f"actuals inside the {config.interval_level:.0%} interval.\n\n"
        f"Hyper-parameters chosen on 2024 only (see tuning.md): `{config.model_dump_json()}`.\n\n"
        f"Positive 1-day skill on {beats} of {len(reports)} coins.\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tune", action="store_true", help="re-run the 2024 tuning first")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "forecast")
    parser.add_argument("--symbols", nargs="*", default=list(SYMBOLS))
    parser.add_argument("--no-png", action="store_true")
    args = parser.parse_args(argv)

    bars_by_symbol = {s: load_bars(PRICES / f"{s}.csv", 100) for s in args.symbols}
    config = tune(bars_by_symbol, args.out) if args.tune else CHOSEN
    _log(f"evaluating {config.model_dump_json()}")
    reports = run(bars_by_symbol, config, EVAL_START, EVAL_END)
    write_report(
        reports,
        args.out,
        title=f"LSTM forecaster, walk-forward {EVAL_START[:4]}",
        notes=summary_notes(config, reports),
        png=not args.no_png,
    )
    table = evaluation_table(reports)
    _log(markdown_table(table))
    _log(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
