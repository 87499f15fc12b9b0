"""An equity chart: the rule's long/flat and long/short equity against buy-and-hold."""

from __future__ import annotations

from typing import Any

import pandas as pd


def equity_figure(report: dict[str, Any]) -> Any:
    """Plotly figure of a served backtest (as `POST /backtest` returns it), log scale."""
    import plotly.graph_objects as go

    points = report["strategy"]["equity"]
    dates = [pd.Timestamp(p["date"]) for p in points]
    fig = go.Figure()
    for key, name, colour, dash in (
        ("buy_hold", "buy and hold", "#8ab4f8", "solid"),
        ("long_flat", "long/flat on the rule", "#ffa726", "solid"),
        ("long_short", "long/short on the rule", "#ce93d8", "dot"),
    ):
        fig.add_trace(
            go.Scatter(
                x=dates,
                y=[p[key] for p in points],
                name=name,
                line={"color": colour, "dash": dash},
            )
        )
    costs = report["strategy"]["fee_bps"] + report["strategy"]["slippage_bps"]
    fig.update_layout(
        template="plotly_dark",
        title=(
            f"{report['symbol']} {report['rule']}: equity of 1 invested "
            f"({costs:g} bp per trade, {report['interval']})"
        ),
        height=480,
        margin={"l": 50, "r": 20, "t": 60, "b": 40},
        legend={"orientation": "h", "y": 1.02, "x": 0},
        yaxis={"type": "log", "title": "equity (log)"},
    )
    return fig
