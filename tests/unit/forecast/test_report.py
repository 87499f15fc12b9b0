"""The evaluation report: a Markdown/CSV table with every metric and a two-pane PNG."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.unit.forecast.helpers import tiny_report
from tools.charts import find_browser
from tools.forecast import evaluation_figure, evaluation_table, write_report


def test_table_has_one_row_per_symbol_and_horizon() -> None:
    table = evaluation_table({"AAA-USD": tiny_report(), "BBB-USD": tiny_report()})
    assert list(zip(table["symbol"], table["horizon"], strict=True)) == [
        ("AAA-USD", 1),
        ("AAA-USD", 7),
        ("BBB-USD", 1),
        ("BBB-USD", 7),
    ]
    metrics = tiny_report().metrics_for(1)
    assert table["skill_pct"].iloc[0] == pytest.approx(metrics.skill * 100)
    assert table["coverage_pct"].iloc[0] == pytest.approx(metrics.coverage * 100)


def test_figure_has_the_forecast_band_and_rolling_mae_panes() -> None:
    fig = evaluation_figure(tiny_report(), "AAA-USD", rolling=10)
    names = {trace.name for trace in fig.data}
    assert {"actual close", "forecast", "interval", "model MAE", "naive MAE"} <= names
    assert len(fig.data[2].x) == 60  # one point per 1-day row


def test_write_report_writes_markdown_csv_and_rows(tmp_path: Path) -> None:
    written = write_report({"AAA-USD": tiny_report()}, tmp_path, notes="Synthetic.", png=False)
    markdown = written["md"].read_text()
    assert "| symbol | horizon | n | MAPE %" in markdown and "| AAA-USD | 1d | 60 |" in markdown
    assert "Synthetic." in markdown
    assert len(pd.read_csv(written["csv"])) == 2
    assert len(pd.read_csv(written["AAA-USD.csv"])) == len(tiny_report().rows)


@pytest.mark.skipif(find_browser() is None, reason="no Chromium for kaleido on this machine")
def test_write_report_renders_a_png(tmp_path: Path) -> None:
    written = write_report({"AAA-USD": tiny_report()}, tmp_path)
    assert written["AAA-USD.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![AAA-USD](AAA-USD.png)" in written["md"].read_text()
