"""`crypto-assistant backtest` against a real database: tables, JSON, exit codes."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path

import pytest

from agent.core import Services
from cli.main import app
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv
from tests.helpers import runner

pytestmark = pytest.mark.integration
BARS = synthetic_bars(450, seed=31)  # 2022-01-01 .. 2023-03-26


@pytest.fixture
def cli_env(services: Services, env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """ETH-USD daily bars stored in the test's database; a wide console so tables keep figures."""
    import_file(services.prices, write_csv(tmp_path, "ETH-USD.csv", BARS))
    return {**env, "COLUMNS": "200"}


def test_tables_show_the_event_study_and_the_strategies(
    services: Services, cli_env: dict[str, str]
) -> None:
    args = ["backtest", "eth", "macd", "--start", "2022-09-01", "--end", "2023-02-28"]
    res = runner.invoke(app, [*args, "--fee-bps", "25"], env=cli_env)
    assert res.exit_code == 0, res.output
    report = asyncio.run(
        services.backtests.run(
            "ETH-USD", "macd", start=date(2022, 9, 1), end=date(2023, 2, 28), fee_bps=25
        )
    )
    assert "ETH-USD macd (1d):" in res.output and "to 2023-02-28" in res.output
    assert "what followed each signal" in res.output
    assert "net of 25 bps fee + 5 bps slippage" in res.output
    for name in ("long_flat", "buy_hold"):
        total = report["strategy"][name]["total_return"]
        assert f"{total * 100:+.2f}%" in res.output
    buy7 = report["events"]["buy"][1]
    if buy7["enough"]:
        assert f"{buy7['hit_rate'] * 100:.1f}%" in res.output
    else:
        assert "not enough history" in res.output
    beats = report["strategy"]["beats_buy_hold"]
    assert ("Long/flat beats" if beats else "Long/flat does not beat") in res.output


def test_json_is_the_rest_answer(services: Services, cli_env: dict[str, str]) -> None:
    res = runner.invoke(
        app, ["backtest", "ETH-USD", "golden cross", "--horizon-days", "5", "--json"], env=cli_env
    )
    assert res.exit_code == 0, res.output
    body = json.loads(res.output)
    assert body == asyncio.run(services.backtests.run("ETH-USD", "golden cross", horizon_days=5))
    assert body["rule"] == "ma_cross" and body["side"] == "buy" and body["horizon_days"] == [5]
    assert body["end"].startswith("2023-03-26")


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["eth", "moon"], 1, "Unknown rule 'moon'"),
        (["notacoin"], 1, "Unknown symbol 'notacoin'. Supported: BTC-USD"),
        (["sol"], 1, "SOL-USD"),  # supported, nothing stored
        (["eth", "--start", "2023-01-01", "--end", "2022-01-01"], 1, "start must be before end"),
        (["eth", "--fee-bps", "2000"], 2, "--fee-bps"),
        (["eth", "--end", "yesterday"], 2, "is not a date"),
    ],
)
def test_errors_are_said_with_a_nonzero_exit(
    cli_env: dict[str, str], args: list[str], code: int, said: str
) -> None:
    res = runner.invoke(app, ["backtest", *args], env=cli_env)
    assert res.exit_code == code, res.output
    assert said in res.output
    assert "Traceback" not in res.output


def test_an_unknown_rule_lists_the_valid_names(cli_env: dict[str, str]) -> None:
    res = runner.invoke(app, ["backtest", "eth", "moon"], env=cli_env)
    assert "stance" in res.output and "golden_cross" in res.output and "macd" in res.output
