"""Evaluation output for people: a metrics table (Markdown + CSV) and a PNG per symbol.

The plot has two panes: the 1-day forecast with its interval against the actual close, and
the rolling 30-day MAE of the model beside naive persistence, so a reader sees at a glance
whether (and when) the model beat "tomorrow = today". Plotly is imported lazily.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from tools.forecast.evaluate import EvaluationReport

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

#: Table columns: (header, HorizonMetrics field or derived key, format).
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("n", "n", "{:.0f}"),
    ("MAPE %", "mape", "{:.2f}"),
    ("naive MAPE %", "naive_mape", "{:.2f}"),
    ("MAE", "mae", "{:.4g}"),
    ("naive MAE", "naive_mae", "{:.4g}"),
    ("RMSE", "rmse", "{:.4g}"),
    ("naive RMSE", "naive_rmse", "{:.4g}"),
    ("skill vs naive %", "skill_pct", "{:+.2f}"),
    ("direction %", "direction_pct", "{:.1f}"),
    ("up-days %", "up_pct", "{:.1f}"),
    ("coverage %", "coverage_pct", "{:.1f}"),
)


def evaluation_table(reports: Mapping[str, EvaluationReport]) -> pd.DataFrame:
    """One row per (symbol, horizon) with every metric (percentages as 0-100)."""
    records: list[dict[str, Any]] = []
    for symbol, report in reports.items():
        for item in report.metrics:
            record: dict[str, Any] = {"symbol": symbol, **item.model_dump()}
            record["skill_pct"] = item.skill * 100.0
            record["direction_pct"] = item.directional_accuracy * 100.0
            record["up_pct"] = item.up_share * 100.0
            record["coverage_pct"] = item.coverage * 100.0
            records.append(record)
    return pd.DataFrame.from_records(records)


def markdown_table(table: pd.DataFrame) -> str:
    """The table of `evaluation_table` as GitHub Markdown (formatted numbers)."""
    headers = ["symbol", "horizon", *[title for title, _, _ in COLUMNS]]
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join(["---"] * 2 + ["---:"] * len(COLUMNS)) + "|",
    ]
    for record in table.to_dict("records"):
        cells = [str(record["symbol"]), f"{record['horizon']}d"]
        cells += [fmt.format(record[key]) for _, key, fmt in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def evaluation_figure(report: EvaluationReport, symbol: str, *, rolling: int = 30) -> Figure:
    """Two panes: 1-day forecast + interval vs actual; rolling MAE of model vs naive."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    rows = report.rows_frame(horizon=1)
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.65, 0.35],
        vertical_spacing=0.06,
        subplot_titles=(
            f"1-day forecast vs actual ({report.config.interval_level:.0%} interval)",
            f"Rolling {rolling}-day MAE: model vs naive persistence",
        ),
    )
    x = rows["target"]
    band = "rgba(66, 165, 245, 0.18)"
    fig.add_trace(
        go.Scatter(x=x, y=rows["upper"], line={"width": 0}, hoverinfo="skip", showlegend=False),
        1,
        1,
    )
    fig.add_trace(
        go.Scatter(
            x=x, y=rows["lower"], line={"width": 0}, fill="tonexty", fillcolor=band, name="interval"
        ),
        1,
        1,
    )
    fig.add_trace(
        go.Scatter(
            x=x, y=rows["actual"], name="actual close", line={"color": "#263238", "width": 1.6}
        ),
        1,
        1,
    )
    fig.add_trace(
        go.Scatter(
            x=x, y=rows["predicted"], name="forecast", line={"color": "#1e88e5", "width": 1.2}
        ),
        1,
        1,
    )
    model_mae = (
        (rows["actual"] - rows["predicted"]).abs().rolling(rolling, min_periods=rolling).mean()
    )
    naive_mae = (rows["actual"] - rows["naive"]).abs().rolling(rolling, min_periods=rolling).mean()
    fig.add_trace(go.Scatter(x=x, y=model_mae, name="model MAE", line={"color": "#1e88e5"}), 2, 1)
    fig.add_trace(
        go.Scatter(x=x, y=naive_mae, name="naive MAE", line={"color": "#ef6c00", "dash": "dash"}),
        2,
        1,
    )
    metrics = report.metrics_for(1)
    fig.update_layout(
        template="plotly_white",
        title={
            "text": f"<b>{symbol}</b> walk-forward {report.start:%Y-%m-%d} to {report.end:%Y-%m-%d}"
            f"   1-day MAPE {metrics.mape:.2f}% · skill vs naive {metrics.skill:+.2%}"
            f" · coverage {metrics.coverage:.0%}",
            "x": 0.01,
        },
        legend={"orientation": "h", "x": 0.0, "y": -0.08},
        margin={"l": 70, "r": 30, "t": 80, "b": 60},
        font={"family": "DejaVu Sans, Arial, sans-serif", "size": 13},
    )
    fig.update_yaxes(title_text="Price", row=1, col=1)
    fig.update_yaxes(title_text="MAE", row=2, col=1)
    return fig


def write_report(
    reports: Mapping[str, EvaluationReport],
    folder: str | Path,
    *,
    title: str = "Walk-forward evaluation",
    notes: str = "",
    png: bool = True,
) -> dict[str, Path]:
    """Write `report.md`, `report.csv`, one `<symbol>.csv` of rows and (if `png`) `<symbol>.png`.

    Returns the written paths by name. PNG export needs Chromium (see `tools.charts`).
    """
    from tools.charts import figure_to_png

    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    table = evaluation_table(reports)
    written: dict[str, Path] = {}
    csv_path = target / "report.csv"
    table.to_csv(csv_path, index=False, float_format="%.6g")
    written["csv"] = csv_path
    body = [f"# {title}\n", notes.strip() + "\n" if notes else "", markdown_table(table)]
    for symbol, report in reports.items():
        rows_path = target / f"{symbol}.csv"
        report.rows_frame().to_csv(rows_path, index=False, float_format="%.10g")
        written[f"{symbol}.csv"] = rows_path
        if png:
            image = target / f"{symbol}.png"
            image.write_bytes(figure_to_png(evaluation_figure(report, symbol), 1200, 800))
            written[f"{symbol}.png"] = image
            body.append(f"\n![{symbol}]({symbol}.png)\n")
    md_path = target / "report.md"
    md_path.write_text("\n".join(part for part in body if part))
    written["md"] = md_path
    return written
