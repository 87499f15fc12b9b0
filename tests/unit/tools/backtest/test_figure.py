"""The web chat's backtest chart: the rule's equity curves against buy-and-hold, as served."""

from __future__ import annotations

from tests.unit.tools.synthetic import random_walk_bars
from tools.backtest import backtest
from tools.backtest.figure import equity_figure


def test_the_chart_draws_the_served_curves_on_a_log_scale() -> None:
    served = backtest(random_walk_bars(500, seed=2), symbol="ETH-USD", rule="stance")
    body = served.model_dump(mode="json")
    figure = equity_figure(body)
    names = [trace.name for trace in figure.data]
    assert names == ["buy and hold", "long/flat on the rule", "long/short on the rule"]
    hold = figure.data[0]
    assert list(hold.y) == [p["buy_hold"] for p in body["strategy"]["equity"]]
    assert figure.layout.yaxis.type == "log" and "ETH-USD stance" in figure.layout.title.text
