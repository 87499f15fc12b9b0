"""A Plotly figure of a symbol's daily news sentiment: score line and item-count bars."""

from __future__ import annotations

from typing import Any


def sentiment_trend_figure(trend: dict[str, Any], *, theme: str = "dark") -> Any:
    """Daily mean score (line, gaps on days without news) over item counts (bars), from the
    trend answer (`{symbol, days: [{date, score, n}], ...}`)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    days = trend.get("days") or []
    dates = [d["date"] for d in days]
    scores = [d["score"] for d in days]
    counts = [d["n"] for d in days]
    colours = [
        "#26a69a" if (s or 0) > 0 else "#ef5350" if (s or 0) < 0 else "#8a93a3" for s in scores
    ]
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.05
    )
    fig.add_trace(
        go.Scatter(
            x=dates,
            y=scores,
            mode="lines+markers",
            name="daily score",
            line={"color": "#8ab4f8"},
            marker={"color": colours, "size": 7},
            connectgaps=False,
            hovertemplate="%{x}: %{y:+.2f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_hline(y=0, line={"color": "#8a93a3", "width": 1, "dash": "dot"}, row=1, col=1)
    fig.add_trace(
        go.Bar(x=dates, y=counts, name="items", marker={"color": "#5c6bc0"}), row=2, col=1
    )
    total = sum(counts)
    model = trend.get("model") or "no model"
    fig.update_layout(
        template="plotly_dark" if theme == "dark" else "plotly_white",
        title=f"{trend.get('symbol', '')} news sentiment, {len(days)} days ({total} items, {model})",
        height=420,
        margin={"l": 50, "r": 20, "t": 60, "b": 40},
        showlegend=False,
    )
    fig.update_yaxes(title_text="score", range=[-1.05, 1.05], row=1, col=1)
    fig.update_yaxes(title_text="items", row=2, col=1)
    return fig
