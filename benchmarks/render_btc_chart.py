"""Render the README screenshot: one year of daily BTC-USD up to 2025-12-31 with the technical
panes and the engine's support/resistance levels, written to docs/images/btc_technical.png.

    .venv/bin/python benchmarks/render_btc_chart.py [--csv PATH] [--as-of 2025-12-31] [--out PNG]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench_technical_panel import DEFAULT_CSV, load_bars  # noqa: E402

from tools.charts import figure_to_png, technical_figure  # noqa: E402
from tools.indicators import TechnicalEngine  # noqa: E402

DEFAULT_OUT = REPO / "docs" / "images" / "btc_technical.png"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--as-of", default="2025-12-31")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1000)
    args = parser.parse_args(argv)

    bars = load_bars(args.csv, years=3)
    report = TechnicalEngine().analyze(bars, symbol="BTC-USD", as_of=args.as_of)
    figure = technical_figure(bars, symbol="BTC-USD", as_of=args.as_of, window=365, report=report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(figure_to_png(figure, width=args.width, height=args.height))
    print(f"wrote {args.out} ({args.width}x{args.height}); {report.summary.text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
