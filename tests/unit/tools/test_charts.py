"""Charts show the right panes for the right period, and export to a real PNG of the requested
size (skipped, with the reason, where no headless Chromium is installed)."""

from __future__ import annotations

import math
import struct
import zlib

import pytest

from tests.unit.tools.synthetic import random_walk_bars
from tools import charts
from tools.charts import figure_to_png, find_browser, technical_figure
from tools.errors import ChartRenderError
from tools.indicators import TechnicalEngine

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, checking the chunk's CRC on the way."""
    assert data[:8] == PNG_MAGIC
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    body = data[16 : 16 + length]
    (crc,) = struct.unpack(">I", data[16 + length : 20 + length])
    assert zlib.crc32(kind + body) == crc
    width, height = struct.unpack(">II", body[:8])
    return width, height


def test_figure_has_price_overlays_volume_rsi_and_macd_panes() -> None:
    bars = random_walk_bars(600, seed=12)
    as_of = bars.index[500]
    fig = technical_figure(bars, symbol="TEST-USD", as_of=as_of.date(), window=200)
    names = {trace.name for trace in fig.data}
    assert {"TEST-USD", "Bollinger bands", "SMA 50", "SMA 200", "Volume", "RSI 14"} <= names
    assert {"MACD", "Signal", "MACD histogram"} <= names
    candles = next(t for t in fig.data if t.type == "candlestick")
    assert len(candles.x) == 200 and candles.x[-1] == as_of  # nothing after as_of is drawn
    sma_200 = next(t for t in fig.data if t.name == "SMA 200")
    assert math.isfinite(sma_200.y[0])  # defined from the first bar shown
    assert "TEST-USD" in fig.layout.title.text and f"{as_of:%Y-%m-%d}" in fig.layout.title.text
    rsi_guides = {shape.y0 for shape in fig.layout.shapes if shape.yref == "y3"}
    assert {30, 70} <= rsi_guides
    assert fig.layout.legend.y >= 1.0  # legend sits above the plot, not on the candles


def test_report_levels_and_stance_are_drawn() -> None:
    bars = random_walk_bars(400, seed=21)
    report = TechnicalEngine().analyze(bars, symbol="TEST-USD")
    fig = technical_figure(bars, symbol="TEST-USD", report=report, theme="light")
    tags = [a.text for a in fig.layout.annotations if a.text and a.text[:2] in {"S ", "R "}]
    assert len(tags) == len(report.levels.support) + len(report.levels.resistance)
    assert report.summary.stance.replace("_", " ") in fig.layout.title.text


def test_png_export_has_the_requested_size() -> None:
    if find_browser() is None:
        pytest.skip("no Chromium/Chrome found for kaleido (install chromium or set BROWSER_PATH)")
    fig = technical_figure(random_walk_bars(300, seed=1), symbol="TEST-USD", window=120)
    data = figure_to_png(fig, width=900, height=640)
    assert _png_size(data) == (900, 640)
    assert len(data) > 20_000  # an actual chart, not a blank canvas


def test_png_export_without_a_browser_raises_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(charts, "find_browser", lambda: None)
    fig = technical_figure(random_walk_bars(100, seed=2), symbol="TEST-USD")
    with pytest.raises(ChartRenderError, match="chromium"):
        figure_to_png(fig)
