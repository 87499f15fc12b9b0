"""A forecast chart: recent closes, the predicted path and its interval band, and the last close."""

from __future__ import annotations

from typing import Any

import pandas as pd


def forecast_figure(bars: pd.DataFrame, forecast: dict[str, Any], *, history_days: int = 90) -> Any:
    """Plotly figure of the last `history_days` closes and a served forecast (as the API returns it)."""
    import plotly.graph_objects as go

    recent = bars["close"].iloc[-history_days:]
    points = forecast["predictions"]
    dates = [pd.Timestamp(p["date"]) for p in points]
    anchor = [pd.Timestamp(forecast["as_of"])]
    close = [forecast["last_close"]]
    level = f"{forecast['interval_level'] * 100:.0f}%"
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=recent.index, y=recent.values, name="close", line={"color": "#8ab4f8"})
    )
    fig.add_trace(
        go.Scatter(
            x=anchor + dates,
            y=close + [p["upper"] for p in points],
            line={"width": 0},
            showlegend=False,
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=anchor + dates,
            y=close + [p["lower"] for p in points],
            fill="tonexty",
            fillcolor="rgba(255,167,38,0.2)",
            line={"width": 0},
            name=f"{level} interval",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=anchor + dates,
            y=close + [p["price"] for p in points],
            name="forecast",
            line={"color": "#ffa726", "dash": "dash"},
            mode="lines+markers",
        )
    )
    skill = forecast.get("skill_vs_naive")
    verdict = "no skill vs naive" if skill is None or skill <= 0 else f"skill vs naive {skill:+.3f}"
    fig.update_layout(
        template="plotly_dark",
        title=f"{forecast['symbol']} forecast, model {forecast['model_version']} ({verdict})",
        height=480,
        margin={"l": 50, "r": 20, "t": 60, "b": 40},
        legend={"orientation": "h", "y": 1.02, "x": 0},
        yaxis_title="USD",
    )
    return fig
