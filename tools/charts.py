"""Plotly chart builders for the technical engine, and PNG export through kaleido.

`technical_figure` draws candles with Bollinger bands and SMA 50/200, then volume, RSI and MACD
panes, from the same point-in-time indicator series the engine reports. Plotly and kaleido are
imported inside the functions so importing this module stays cheap.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from tools.errors import ChartRenderError, InsufficientDataError
from tools.indicators.bars import AsOf
from tools.indicators.context import fmt_num
from tools.indicators.engine import indicator_frame
from tools.indicators.models import Interval, TechnicalReport
from tools.indicators.params import DEFAULT_PARAMS, IndicatorParams

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

Theme = Literal["dark", "light"]

_PALETTES: dict[str, dict[str, str]] = {
    "dark": {
        "template": "plotly_dark",
        "paper": "#0f1217",
        "plot": "#0f1217",
        "grid": "#232832",
        "text": "#d5d9e0",
        "muted": "#8a93a3",
        "up": "#26a69a",
        "down": "#ef5350",
        "band": "rgba(144, 164, 174, 0.75)",
        "band_fill": "rgba(144, 164, 174, 0.10)",
        "sma_fast": "#ffb300",
        "sma_slow": "#42a5f5",
        "rsi": "#ba68c8",
        "macd": "#29b6f6",
        "signal": "#ff8a65",
    },
    "light": {
        "template": "plotly_white",
        "paper": "#ffffff",
        "plot": "#ffffff",
        "grid": "#e6e8ec",
        "text": "#1f2430",
        "muted": "#6b7280",
        "up": "#089981",
        "down": "#f23645",
        "band": "rgba(96, 125, 139, 0.8)",
        "band_fill": "rgba(96, 125, 139, 0.10)",
        "sma_fast": "#f59e0b",
        "sma_slow": "#2563eb",
        "rsi": "#8e24aa",
        "macd": "#0288d1",
        "signal": "#e64a19",
    },
}

#: Places Debian/Ubuntu/macOS put a Chromium-based browser that kaleido can drive.
BROWSER_CANDIDATES: tuple[str, ...] = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
)


def _with_alpha(hex_colour: str, alpha: float) -> str:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def _line(go: Any, x: pd.Index, y: pd.Series, name: str, colour: str, **extra: Any) -> Any:
    style = {"color": colour, "width": extra.pop("width", 1.4), "dash": extra.pop("dash", None)}
    return go.Scatter(x=x, y=y, name=name, mode="lines", line=style, **extra)


def _direction_colours(up: np.ndarray, colours: dict[str, str], alpha: float) -> np.ndarray:
    return np.where(up, _with_alpha(colours["up"], alpha), _with_alpha(colours["down"], alpha))


def technical_figure(
    bars: pd.DataFrame,
    *,
    symbol: str,
    interval: Interval = "1d",
    as_of: AsOf = None,
    window: int | None = 365,
    params: IndicatorParams | None = None,
    report: TechnicalReport | None = None,
    theme: Theme = "dark",
) -> Figure:
    """Candles + Bollinger bands + SMA fast/slow, volume, RSI (with the oversold/overbought
    lines) and MACD panes for the last `window` bars up to `as_of`.

    Indicators are computed on all bars up to `as_of` and only then cut to the window, so the
    200-bar average is defined from the first bar shown. A `report` for the same bars adds its
    support/resistance levels (labelled in the right margin) and its stance to the title.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    settings = params or DEFAULT_PARAMS
    groups = ["bbands", "sma", "rsi", "macd"]
    frame = indicator_frame(
        bars, as_of=as_of, interval=interval, indicators=groups, params=settings
    )
    if window is not None:
        frame = frame.iloc[-window:]
    if frame.empty:
        raise InsufficientDataError("no bars to chart")
    colours = _PALETTES[theme]
    fig = make_subplots(
        rows=4,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.025,
        row_heights=[0.54, 0.12, 0.16, 0.18],
    )
    price_range = _price_pane(go, fig, frame, symbol, settings, colours, report)
    x = frame.index
    rising = (frame["close"] >= frame["open"]).to_numpy()
    volume = go.Bar(
        x=x, y=frame["volume"], name="Volume", marker_color=_direction_colours(rising, colours, 0.6)
    )
    fig.add_trace(volume, row=2, col=1)
    _rsi_pane(go, fig, frame, settings, colours)
    _macd_pane(go, fig, frame, colours)
    _layout(fig, frame, symbol, interval, settings, colours, report, price_range)
    return fig


def _price_pane(
    go: Any,
    fig: Any,
    frame: pd.DataFrame,
    symbol: str,
    settings: IndicatorParams,
    colours: dict[str, str],
    report: TechnicalReport | None,
) -> tuple[float, float]:
    """Bollinger band (filled), candles, SMA fast/slow and report levels; returns the y range."""
    x, band = frame.index, colours["band"]
    traces = [_line(go, x, frame["bb_upper"], "Bollinger bands", band, legendgroup="bb")]
    hidden = {"legendgroup": "bb", "showlegend": False}
    fill = {"fill": "tonexty", "fillcolor": colours["band_fill"]}  # shades down to the upper
    traces.append(_line(go, x, frame["bb_lower"], "BB lower", band, **fill, **hidden))
    traces.append(_line(go, x, frame["bb_middle"], "BB mid", band, width=1, dash="dot", **hidden))
    traces.append(
        go.Candlestick(
            x=x,
            open=frame["open"],
            high=frame["high"],
            low=frame["low"],
            close=frame["close"],
            name=symbol,
            increasing={"line": {"color": colours["up"]}, "fillcolor": colours["up"]},
            decreasing={"line": {"color": colours["down"]}, "fillcolor": colours["down"]},
        )
    )
    averages = [(settings.trend_fast, "sma_fast"), (settings.trend_slow, "sma_slow")]
    for period, colour in averages:
        traces.append(_line(go, x, frame[f"sma_{period}"], f"SMA {period}", colours[colour]))
    for trace in traces:
        fig.add_trace(trace, row=1, col=1)
    price_range = _price_range(frame, [f"sma_{p}" for p, _ in averages], report)
    if report is not None:
        _add_levels(fig, x[-min(len(x), settings.level_lookback) :], report, colours, price_range)
    return price_range


def _rsi_pane(
    go: Any, fig: Any, frame: pd.DataFrame, settings: IndicatorParams, colours: dict[str, str]
) -> None:
    """RSI line over a shaded neutral zone with dashed oversold/overbought guides."""
    rsi = frame[f"rsi_{settings.rsi_period}"]
    fig.add_trace(
        _line(go, frame.index, rsi, f"RSI {settings.rsi_period}", colours["rsi"]), row=3, col=1
    )
    low, high = settings.rsi_oversold, settings.rsi_overbought
    guide = {"color": colours["muted"], "width": 1, "dash": "dash"}
    for level in (low, high):
        fig.add_hline(y=level, row=3, col=1, line=guide)
    shade = _with_alpha(colours["rsi"], 0.06)
    fig.add_hrect(y0=low, y1=high, row=3, col=1, fillcolor=shade, line_width=0)


def _macd_pane(go: Any, fig: Any, frame: pd.DataFrame, colours: dict[str, str]) -> None:
    """MACD histogram (coloured by sign) behind the MACD and signal lines."""
    x, hist = frame.index, frame["macd_hist"]
    bars = _direction_colours(hist.to_numpy() >= 0, colours, 0.55)
    fig.add_trace(go.Bar(x=x, y=hist, name="MACD histogram", marker_color=bars), row=4, col=1)
    fig.add_trace(_line(go, x, frame["macd"], "MACD", colours["macd"]), row=4, col=1)
    fig.add_trace(_line(go, x, frame["macd_signal"], "Signal", colours["signal"]), row=4, col=1)


def _layout(
    fig: Any,
    frame: pd.DataFrame,
    symbol: str,
    interval: str,
    settings: IndicatorParams,
    colours: dict[str, str],
    report: TechnicalReport | None,
    price_range: tuple[float, float],
) -> None:
    """Theme, title (symbol, last bar, close, stance), a legend above the plot, axis titles."""
    last = frame.index[-1]
    stamp = f"{last:%Y-%m-%d}" if interval == "1d" else f"{last:%Y-%m-%d %H:%M} UTC"
    kind = "daily" if interval == "1d" else "hourly"
    details = f"close {fmt_num(float(frame['close'].iloc[-1]))} · last {len(frame)} bars"
    if report is not None:
        details += f" · {report.summary.stance.replace('_', ' ')} ({report.summary.score:+.2f})"
    fig.update_traces(selector={"type": "bar"}, showlegend=False)
    fig.update_layout(
        template=colours["template"],
        paper_bgcolor=colours["paper"],
        plot_bgcolor=colours["plot"],
        font={"family": "DejaVu Sans, Arial, sans-serif", "size": 13, "color": colours["text"]},
        title={
            "text": f"<b>{symbol}</b>  {kind} bars to {stamp}"
            f"<span style='font-size:13px;color:{colours['muted']}'>   {details}</span>",
            "x": 0.01,
            "y": 0.985,
            "xanchor": "left",
            "yanchor": "top",
        },
        legend={"orientation": "h", "x": 0.0, "y": 1.0, "yanchor": "bottom", "font": {"size": 12}},
        margin={"l": 70, "r": 110 if report is not None else 30, "t": 80, "b": 40},
        hovermode="x unified",
        bargap=0.15,
        xaxis_rangeslider_visible=False,
    )
    fig.update_xaxes(gridcolor=colours["grid"], showspikes=True, spikethickness=1)
    fig.update_yaxes(gridcolor=colours["grid"], zeroline=False)
    fig.update_yaxes(title_text="Price", range=list(price_range), row=1, col=1)
    fig.update_yaxes(title_text="Volume", row=2, col=1)
    rsi_ticks = [settings.rsi_oversold, 50, settings.rsi_overbought]
    rsi_title = f"RSI {settings.rsi_period}"
    fig.update_yaxes(title_text=rsi_title, range=[0, 100], tickvals=rsi_ticks, row=3, col=1)
    macd_title = f"MACD {settings.macd_fast}/{settings.macd_slow}/{settings.macd_signal}"
    fig.update_yaxes(title_text=macd_title, row=4, col=1)


def _price_range(
    frame: pd.DataFrame, overlays: Sequence[str], report: TechnicalReport | None
) -> tuple[float, float]:
    """Price-pane y range covering candles, bands, averages and levels, with a little air."""
    columns = ["low", "high", "bb_upper", "bb_lower", *[c for c in overlays if c in frame]]
    values = frame[columns].to_numpy(dtype=float)
    extra = [] if report is None else [*report.levels.support, *report.levels.resistance]
    everything = np.concatenate([values[np.isfinite(values)], np.asarray(extra, dtype=float)])
    low, high = float(everything.min()), float(everything.max())
    pad = (high - low) * 0.03 or abs(high) * 0.01 or 1.0
    return low - pad, high + pad


def _add_levels(
    fig: Any,
    x: pd.Index,
    report: TechnicalReport,
    colours: dict[str, str],
    price_range: tuple[float, float],
) -> None:
    """Dotted support/resistance lines over the span `x` they were found in, with price tags
    in the right margin, pushed apart (upwards, in price order) so none overlap."""
    gap = (price_range[1] - price_range[0]) * 0.03
    tagged = [(p, "S", colours["up"]) for p in report.levels.support]
    tagged += [(p, "R", colours["down"]) for p in report.levels.resistance]
    previous = -np.inf
    for price, tag, colour in sorted(tagged):
        fig.add_shape(
            type="line",
            x0=x[0],
            x1=x[-1],
            y0=price,
            y1=price,
            line={"color": _with_alpha(colour, 0.65), "width": 1, "dash": "dot"},
            row=1,
            col=1,
        )
        label_y = max(price, previous + gap)
        previous = label_y
        fig.add_annotation(
            x=1.0,
            xref="paper",
            xanchor="left",
            y=label_y,
            yref="y",
            text=f"{tag} {fmt_num(price)}",
            showarrow=False,
            font={"size": 11, "color": colour},
        )


def find_browser() -> str | None:
    """Path of a Chromium-based browser kaleido can use: `BROWSER_PATH`, the usual install
    locations, `PATH`, then whatever kaleido's own lookup finds; None if there is none."""
    configured = os.environ.get("BROWSER_PATH")
    if configured and os.access(configured, os.X_OK):
        return configured
    for candidate in BROWSER_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    try:
        from choreographer.browsers.chromium import Chromium

        located: str | None = Chromium.find_browser(skip_local=False)
    except Exception:  # a lookup failure means "no browser", never a crash
        return None
    return located


def figure_to_png(fig: Figure, width: int = 1200, height: int = 900, scale: float = 1.0) -> bytes:
    """Render a figure to PNG bytes (`width` x `height` pixels at scale 1) with kaleido.

    The browser path is handed to kaleido explicitly and MathJax is off, so nothing is fetched
    from the network. Raises `ChartRenderError` when no browser is found or the export fails.
    """
    browser = find_browser()
    if browser is None:
        raise ChartRenderError(
            "PNG export needs a Chromium-based browser for kaleido: install chromium "
            "(apt-get install chromium) or set BROWSER_PATH"
        )
    import kaleido

    options = {"format": "png", "width": width, "height": height, "scale": scale}
    try:
        image = kaleido.calc_fig_sync(fig, opts=options, kopts={"path": browser, "mathjax": False})
    except Exception as exc:  # kaleido/choreographer raise many unrelated types
        raise ChartRenderError(f"PNG export failed: {exc}") from exc
    return bytes(image)
