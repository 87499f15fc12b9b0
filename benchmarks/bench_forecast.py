"""Benchmark the LSTM forecaster on ~10 years of daily BTC: training time with the default
config (goal < 60 s on 2 cores), warm forecast latency over 200 calls (goal p50 < 50 ms) and
the time to load the saved artifact.

    .venv/bin/python benchmarks/bench_forecast.py [--csv PATH] [--years 10] [--calls 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench_technical_panel import DEFAULT_CSV, load_bars  # noqa: E402
from common import percentile  # noqa: E402

from tools.forecast import DEFAULT_CONFIG, load_model, save_model, train_model  # noqa: E402

COLD_LOAD = (
    "import sys, time; t = time.perf_counter(); sys.path.insert(0, sys.argv[2]);"
    "from tools.forecast import load_model; load_model(sys.argv[1]);"
    "print(time.perf_counter() - t)"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args(argv)

    bars = load_bars(args.csv, args.years)
    started = time.perf_counter()
    model = train_model(bars, DEFAULT_CONFIG)
    wall = time.perf_counter() - started  # includes the TensorFlow import and graph building

    horizon = DEFAULT_CONFIG.horizon
    for _ in range(5):
        model.predict(bars, horizon=horizon)
    latencies: list[float] = []
    for _ in range(args.calls):
        t = time.perf_counter()
        model.predict(bars, horizon=horizon)
        latencies.append((time.perf_counter() - t) * 1e3)

    with tempfile.TemporaryDirectory(prefix="bench-forecast-") as folder:
        save_model(model, folder)
        loads = []
        for _ in range(5):
            t = time.perf_counter()
            loaded = load_model(folder)
            loads.append(time.perf_counter() - t)
        t = time.perf_counter()
        loaded.predict(bars, horizon=horizon)
        first_predict = (time.perf_counter() - t) * 1e3
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        cold = subprocess.run(
            [sys.executable, "-c", COLD_LOAD, folder, str(REPO)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        cold_load = float(cold.stdout.strip().splitlines()[-1])

    from rich.console import Console
    from rich.table import Table

    span = f"{bars.index[0]:%Y-%m-%d} .. {bars.index[-1]:%Y-%m-%d}"
    table = Table(
        title=f"LSTM forecaster on {args.csv.name}: {len(bars)} bars ({span}), {os.cpu_count()} CPUs"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("goal", justify="right")
    table.add_row("training (model.fit)", f"{model.training_seconds:.1f} s", "< 60 s")
    table.add_row("training (wall, incl. TF import)", f"{wall:.1f} s", "")
    table.add_row(
        "epochs run (early stopping)", f"{model.epochs_run} / {DEFAULT_CONFIG.epochs}", ""
    )
    table.add_row(
        f"forecast {horizon} days, warm p50", f"{statistics.median(latencies):.2f} ms", "< 50 ms"
    )
    table.add_row(f"forecast {horizon} days, warm p95", f"{percentile(latencies, 95):.2f} ms", "")
    table.add_row(
        "load artifact (TF already imported), median of 5",
        f"{statistics.median(loads) * 1e3:.0f} ms",
        "",
    )
    table.add_row("first forecast after load (traces the graph)", f"{first_predict:.0f} ms", "")
    table.add_row("load artifact in a fresh process (incl. TF import)", f"{cold_load:.1f} s", "")
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
