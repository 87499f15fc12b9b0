"""Telegram `/backtest` end to end: the real bot code against a fake Bot API on 127.0.0.1 and
the real backtest service on a fresh database; assertions are about what the user sees."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.core import Services
from agent.errors import ChartRenderError
from bots.formatting import plain
from bots.telegram_bot import ALLOWED_UPDATES, BotApplication, build_application
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv
from tests.fakes.telegram_server import PNG_MAGIC, FakeTelegram, png_size

pytestmark = pytest.mark.integration
ALICE = 111
BARS = synthetic_bars(500, seed=4)


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake
    assert fake.errors == []


@pytest.fixture
def loaded(services: Services, tmp_path: Path) -> Services:
    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", BARS))
    return services


@pytest.fixture
async def bot(
    loaded: Services, make_settings: Any, telegram: FakeTelegram
) -> AsyncIterator[BotApplication]:
    """The bot polling the fake API, as `crypto-assistant bot` runs it."""
    settings = make_settings(
        telegram_bot_token=telegram.token, telegram_api_base_url=telegram.base_url
    )
    app = build_application(loaded, settings)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0.0, timeout=1, allowed_updates=ALLOWED_UPDATES
        )
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


def _pct(fraction: float) -> str:
    return f"{fraction * 100:+.2f}%"


async def test_backtest_replies_with_the_figures_and_the_equity_chart(
    bot: BotApplication, loaded: Services, telegram: FakeTelegram
) -> None:
    from tools.charts import find_browser

    telegram.message("/backtest btc stance", user_id=ALICE)
    (reply,) = await telegram.wait_for("sendMessage", chat_id=ALICE, timeout=30)
    report = await loaded.backtests.run("BTC-USD", "stance")
    text = plain(reply.text)
    assert reply.fields["parse_mode"] == "HTML"
    assert text.startswith("Backtest: BTC-USD · stance (daily")
    buy7 = report["events"]["buy"][1]
    assert buy7["horizon"] == 7
    if buy7["enough"]:
        assert f"Buy · the summary stance turns bullish: {buy7['n']} time(s)" in text
        assert f"7 days later up {buy7['hit_rate'] * 100:.1f}% of the time" in text
        assert f"against {buy7['base_hit_rate'] * 100:.1f}% of all days" in text
        assert f"mean 7-day return {_pct(buy7['mean_return'])}" in text
        if buy7["significant"]:
            assert f"significant (p {buy7['p_value']:.3f})" in text
        else:
            assert f"not significant (p {buy7['p_value']:.2f})" in text
    else:
        assert "not enough history" in text
    flat, hold = report["strategy"]["long_flat"], report["strategy"]["buy_hold"]
    assert f"Long/flat (10 bps fee + 5 bps slippage a trade): {_pct(flat['total_return'])}" in text
    assert f"buy-and-hold {_pct(hold['total_return'])}" in text
    assert f"{flat['trades']} trade(s), max drawdown {flat['max_drawdown'] * 100:.2f}%" in text
    if find_browser() is None:
        pytest.skip("no Chromium/Chrome for kaleido: the photo cannot be checked here")
    (photo,) = await telegram.wait_for("sendPhoto", chat_id=ALICE, timeout=60)
    data = photo.files["photo"].data
    assert data[:8] == PNG_MAGIC and png_size(data) == (1200, 700)
    assert "BTC-USD" in photo.text and "buy-and-hold" in photo.text


async def test_a_named_side_shows_that_side_only(
    bot: BotApplication, loaded: Services, telegram: FakeTelegram, monkeypatch: Any
) -> None:
    async def no_chart(served: dict[str, Any]) -> bytes:
        raise ChartRenderError("no browser")

    monkeypatch.setattr(loaded.backtests, "chart_png", no_chart)
    telegram.message("/backtest bitcoin death cross", user_id=ALICE)
    (reply,) = await telegram.wait_for("sendMessage", chat_id=ALICE, timeout=30)
    text = plain(reply.text)
    assert "· ma_cross" in text
    assert "Sell · death cross (SMA50 below SMA200)" in text and "Buy ·" not in text
    report = await loaded.backtests.run("BTC-USD", "death_cross")
    sell7 = report["events"]["sell"][1]
    if not sell7["enough"]:
        assert f"{sell7['n']} time(s), not enough history to say anything." in text
    await asyncio.sleep(0.5)  # the chart failed: the text is the whole answer, no apology
    assert telegram.calls("sendPhoto") == []
    assert len(telegram.calls("sendMessage")) == 1


async def test_missing_or_unknown_rule_gets_a_list_of_names(
    bot: BotApplication, telegram: FakeTelegram
) -> None:
    telegram.message("/backtest btc", user_id=ALICE)
    (first,) = await telegram.wait_for("sendMessage", chat_id=ALICE)
    telegram.message("/backtest btc moon <b>phase</b>", user_id=ALICE)
    _, second = await telegram.wait_for("sendMessage", 2, chat_id=ALICE)
    assert first.text.startswith("Which rule should I backtest?")
    assert second.text.startswith("I don't know the rule “moon &lt;b&gt;phase&lt;/b&gt;”.")
    for reply in (first, second):
        assert "golden_cross" in reply.text and "macd" in reply.text and "stance" in reply.text
        assert "/backtest BTC golden_cross" in reply.text
    assert telegram.calls("sendPhoto") == []


async def test_usage_unknown_coin_and_help(bot: BotApplication, telegram: FakeTelegram) -> None:
    for text in ("/backtest", "/backtest dogecoinz macd", "/help"):
        telegram.message(text, user_id=ALICE)
    sent = await telegram.wait_for("sendMessage", 3, chat_id=ALICE)
    texts = [c.text for c in sent]
    assert any("for example: /backtest BTC golden_cross" in t for t in texts)
    assert any("I don't know the coin “dogecoinz”" in t for t in texts)
    assert any("/backtest – How a signal did before" in t for t in texts)
