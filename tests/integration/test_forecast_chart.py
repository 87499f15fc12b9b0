"""The web chat's forecast chart draws the forecast the answer quotes, without serving another
(`chart_elements` wraps this figure in a Chainlit element, which needs a live session)."""

from __future__ import annotations

from pathlib import Path

from agent.core import Services
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv
from tools.forecast import ForecastConfig
from ui.charts import served_forecasts


async def test_the_forecast_chart_draws_the_served_forecast_and_serves_no_other(
    services: Services, tmp_path: Path
) -> None:
    services.training.config = ForecastConfig(
        window=10, units=(8,), epochs=2, patience=1, horizon=30, batch_size=32
    )
    services.training.eval_days = 60
    services.training.model_dir = tmp_path / "models"
    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", synthetic_bars(300, seed=8)))
    services.training.train("BTC-USD")
    served = await services.forecasts.forecast("BTC-USD", 7)
    ledger_rows = len(services.forecasts.ledger.entries("BTC-USD"))
    tools_used = [
        {"name": "forecast_price", "ok": True, "result": served},
        {"name": "forecast_price", "ok": True, "result": served},  # the same forecast twice
    ]

    forecasts = served_forecasts(tools_used)
    assert forecasts == [served]
    figure = await services.forecasts.chart(forecasts[0])

    predicted = next(trace for trace in figure.data if trace.name == "forecast")
    # the origin's close, then exactly the 7 prices the answer quoted
    assert list(predicted.y) == [served["last_close"], *(p["price"] for p in served["predictions"])]
    assert len(services.forecasts.ledger.entries("BTC-USD")) == ledger_rows  # nothing re-served
