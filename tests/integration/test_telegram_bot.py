"""The Telegram bot end to end: python-telegram-bot's real HTTP code against a fake Bot API.

Updates go in through getUpdates (or the webhook), the bot calls the real services on a fresh
database, and every assertion is about what the user would see in the chat.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agent.core import Services
from agent.graph.chat import ChatResult, ChatService
from agent.settings import Settings
from bots.errors import APOLOGY
from bots.formatting import (
    MAX_MESSAGE,
    plain,
    render,
    sources_html,
    split_html,
    stance_label,
    to_html,
)
from bots.guards import SlidingWindowLimiter
from bots.telegram_bot import (
    ALLOWED_UPDATES,
    BotApplication,
    BotStartError,
    build_application,
    main,
    start_webhook_bot,
    stop_webhook_bot,
)
from bots.webhook import AUTH_HEADER
from bots.webhook import router as webhook_router
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv
from tests.fakes.telegram_server import PNG_MAGIC, FakeTelegram, png_size

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]

ALICE = 111
MALLORY = 222
WEBHOOK_SECRET = "s3cret-token_for-tests"
BARS = {"BTC-USD": synthetic_bars(300, seed=1), "ETH-USD": synthetic_bars(300, seed=2)}


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake
    assert fake.errors == []


@pytest.fixture
def loaded(services: Services, tmp_path: Path) -> Services:
    for symbol, bars in BARS.items():
        import_file(services.prices, write_csv(tmp_path, f"{symbol}.csv", bars))
    return services


@pytest.fixture
async def chat(loaded: Services) -> AsyncIterator[ChatService]:
    """The chat service, started in the test loop and closed after the test."""
    service = await loaded.start_chat()
    yield service
    await loaded.memory.close()


@pytest.fixture
def bot_settings(
    make_settings: Callable[..., Settings], telegram: FakeTelegram
) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "telegram_bot_token": telegram.token,
            "telegram_api_base_url": telegram.base_url,
        }
        values.update(overrides)
        return make_settings(**values)

    return build


@asynccontextmanager
async def polling(services: Services, settings: Settings) -> AsyncIterator[BotApplication]:
    """The bot receiving updates through getUpdates, as `crypto-assistant bot` runs it."""
    app = build_application(services, settings)
    async with app:  # initialize (getMe) ... shutdown
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


@pytest.fixture
async def bot(
    loaded: Services, chat: ChatService, bot_settings: Callable[..., Settings]
) -> AsyncIterator[BotApplication]:
    async with polling(loaded, bot_settings()) as app:
        yield app


def counting(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[Any]:
    """Replace an async method by a wrapper that records each call's arguments."""
    calls: list[Any] = []
    original = getattr(owner, name)

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append((args, kwargs))
        return await original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls


# ----- commands through getUpdates -----


async def test_price_replies_with_the_stored_close(
    bot: BotApplication, telegram: FakeTelegram
) -> None:
    telegram.message("/price btc", user_id=ALICE)
    (reply,) = await telegram.wait_for("sendMessage", chat_id=ALICE)
    close = float(BARS["BTC-USD"]["close"].iloc[-1])
    assert f"{close:,.2f} USD" in reply.text
    assert "Bitcoin (BTC-USD)" in reply.text
    assert reply.fields["parse_mode"] == "HTML"
    assert telegram.calls("getUpdates"), "the update did not come through getUpdates"
    assert telegram.calls("getMe") and telegram.calls("deleteWebhook")


async def test_ta_shows_the_stance_and_the_engine_rsi(
    bot: BotApplication, loaded: Services, telegram: FakeTelegram
) -> None:
    telegram.message("/ta eth", user_id=ALICE)
    (reply,) = await telegram.wait_for("sendMessage", chat_id=ALICE)
    report = await loaded.technical.report("ETH-USD")
    assert f"Stance: <b>{stance_label(report['summary']['stance'])}</b>" in reply.text
    assert f"RSI 14 {report['values']['rsi_14']:.1f}" in reply.text
    top = sorted(report["signals"], key=lambda s: s["action"] == "hold")[0]
    assert f"{top['action'].upper()}: {top['reason']}" in plain(reply.text)
    assert "Support:" in reply.text and "Resistance:" in reply.text
    assert telegram.calls("sendChatAction")


async def test_chart_sends_a_png_photo(bot: BotApplication, telegram: FakeTelegram) -> None:
    from tools.charts import find_browser

    if find_browser() is None:
        pytest.skip("no Chromium/Chrome found for kaleido (install chromium or set BROWSER_PATH)")
    telegram.message("/chart btc", user_id=ALICE)
    (photo,) = await telegram.wait_for("sendPhoto", chat_id=ALICE, timeout=60)
    data = photo.files["photo"].data
    assert data[:8] == PNG_MAGIC
    assert png_size(data) == (1200, 900)
    assert "BTC-USD" in photo.text and photo.fields["parse_mode"] == "HTML"
    assert telegram.calls("sendMessage") == []


async def test_free_text_goes_to_the_agent_in_the_chat_thread(
    bot: BotApplication, chat: ChatService, telegram: FakeTelegram
) -> None:
    telegram.message("is btc oversold?", user_id=ALICE)
    sent = await telegram.wait_for("sendMessage", chat_id=ALICE)
    expected = await chat.reply("reference", "is btc oversold?", surface="telegram")
    assert [c.text for c in sent] == render(expected.answer, sources_html(expected.sources))
    assert "<b>Technical view on BTC-USD</b>" in sent[0].text
    history = await chat.history(f"tg-{ALICE}", surface="telegram", principal=f"chat:{ALICE}")
    assert history[0] == {"role": "user", "text": "is btc oversold?"}


async def test_ask_command_and_follow_up_share_the_thread(
    bot: BotApplication, chat: ChatService, telegram: FakeTelegram
) -> None:
    telegram.message("/ask is btc oversold?", user_id=ALICE)
    await telegram.wait_for("sendMessage", chat_id=ALICE)
    telegram.message("and for ETH?", user_id=ALICE)
    sent = await telegram.wait_for("sendMessage", 2, chat_id=ALICE)
    assert "ETH-USD" in sent[-1].text
    assert (
        len(await chat.history(f"tg-{ALICE}", surface="telegram", principal=f"chat:{ALICE}")) == 4
    )


async def test_unknown_symbol_lists_the_supported_ones_escaped(
    bot: BotApplication, telegram: FakeTelegram
) -> None:
    telegram.message("/price <script>alert(1)</script>&co", user_id=ALICE)
    (reply,) = await telegram.wait_for("sendMessage", chat_id=ALICE)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&amp;co" in reply.text
    assert "<script>" not in reply.text
    assert "BTC" in reply.text and "ETH" in reply.text


async def test_missing_data_is_said_plainly(bot: BotApplication, telegram: FakeTelegram) -> None:
    telegram.message("/ta sol", user_id=ALICE)  # a supported coin with nothing stored
    (reply,) = await telegram.wait_for("sendMessage", chat_id=ALICE)
    assert reply.text.startswith("Sorry, I have no data for that")
    assert "SOL-USD" in reply.text


async def test_usage_help_and_commands_not_available_yet(
    bot: BotApplication, telegram: FakeTelegram
) -> None:
    for text in ("/price", "/help", "/sentiment", "/nonsense"):
        telegram.message(text, user_id=ALICE)
    sent = await telegram.wait_for("sendMessage", 4, chat_id=ALICE)
    texts = sorted(c.text for c in sent)
    assert any("for example: /price BTC" in t for t in texts)
    assert any("/chart" in t and "Coins: BTC, ETH" in t for t in texts)
    assert any("/sentiment SOL" in t for t in texts)  # usage hint of the bare command
    assert any("I don't know that command" in t for t in texts)


async def test_forecast_command_goes_to_the_agent(
    bot: BotApplication, telegram: FakeTelegram
) -> None:
    telegram.message("/forecast btc 3", user_id=ALICE)
    (reply,) = await telegram.wait_for("sendMessage", chat_id=ALICE)
    # no model is trained in this test: the answer says how to train one, nothing invented
    assert "crypto-assistant models train BTC-USD" in reply.text


# ----- long answers and escaping -----


async def test_a_long_answer_is_split_and_escaped(
    bot: BotApplication, chat: ChatService, telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    paragraph = "**Risk** <script>x</script> & more: " + "lorem ipsum dolor sit amet " * 20
    answer = "\n\n".join(f"{i}. {paragraph}" for i in range(40)) + "\n\n_footer_"

    async def long_reply(thread_id: str, text: str, **kwargs: Any) -> ChatResult:
        return ChatResult(thread_id=thread_id, answer=answer, grounded=True, mode="offline")

    monkeypatch.setattr(chat, "reply", long_reply)
    telegram.message("tell me everything", user_id=ALICE)
    await telegram.wait_for("sendMessage", 3, chat_id=ALICE)
    await bot.update_queue.join()
    sent = telegram.sent(ALICE)
    assert len(sent) > 1 and all(len(c.text) <= MAX_MESSAGE for c in sent)
    text = "\n\n".join(c.text for c in sent)
    assert "<script>" not in text and text.count("&lt;script&gt;x&lt;/script&gt; &amp; more") == 40
    assert text.count("<b>Risk</b>") == 40 and text.endswith("<i>footer</i>")
    assert all(re.match(r"^\d+\. ", c.text) for c in sent), "a split fell inside a paragraph"


def test_markdown_to_html() -> None:
    html = to_html("**Bold** & _note_ for rsi_14 <b>\n- item `a<b`\n# Title")
    assert html == (
        "<b>Bold</b> &amp; <i>note</i> for rsi_14 &lt;b&gt;\n• item <code>a&lt;b</code>\n"
        "<b>Title</b>"
    )


def test_an_over_long_line_is_cut_with_balanced_tags() -> None:
    line = to_html("**" + " ".join(["word"] * 2000) + "**")
    pieces = split_html(line, limit=500)
    assert len(pieces) > 1 and all(len(p) <= 500 for p in pieces)
    assert all(p.startswith("<b>") and p.endswith("</b>") for p in pieces)
    assert plain("".join(pieces)).split() == ["word"] * 2000
    assert split_html("x" * 1500, limit=500) == ["x" * 500] * 3


# ----- guards -----


async def test_a_user_outside_the_allow_list_gets_only_a_refusal(
    loaded: Services,
    chat: ChatService,
    bot_settings: Callable[..., Settings],
    telegram: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prices = counting(monkeypatch, loaded.market, "price_summary")
    reports = counting(monkeypatch, loaded.technical, "report")
    turns = counting(monkeypatch, chat, "reply")
    async with polling(loaded, bot_settings(telegram_allowed_users=[ALICE])) as app:
        telegram.message("/price btc", user_id=MALLORY)
        telegram.message("is btc oversold?", user_id=MALLORY)
        await telegram.wait_for("sendMessage", chat_id=MALLORY)
        telegram.message("/price btc", user_id=ALICE)
        await telegram.wait_for("sendMessage", chat_id=ALICE)
        await app.update_queue.join()
    (refusal,) = telegram.sent(MALLORY)  # one refusal, even for two messages
    assert "private" in refusal.text
    assert len(prices) == 1 and prices[0][0][0] == "btc"  # Alice's call only
    assert reports == [] and turns == []
    assert (
        await chat.history(f"tg-{MALLORY}", surface="telegram", principal=f"chat:{MALLORY}") == []
    )


async def test_the_rate_limit_answers_politely_and_calls_nothing(
    loaded: Services,
    chat: ChatService,
    bot_settings: Callable[..., Settings],
    telegram: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    turns = counting(monkeypatch, chat, "reply")
    async with polling(loaded, bot_settings(telegram_rate_limit_per_minute=2)) as app:
        for _ in range(4):
            telegram.message("what is RSI?", user_id=ALICE)
        await telegram.wait_for("sendMessage", 3, chat_id=ALICE)
        telegram.message("what is RSI?", user_id=ALICE + 1)  # another chat has its own window
        await telegram.wait_for("sendMessage", chat_id=ALICE + 1)
        await app.update_queue.join()
    texts = telegram.sent_texts(ALICE)
    assert len(texts) == 3  # two answers, one notice; the fourth message is dropped silently
    notices = [t for t in texts if "faster than I can answer" in t]
    assert len(notices) == 1 and "2 a minute" in notices[0]
    assert len(turns) == 3


def test_the_sliding_window_frees_slots_as_time_passes() -> None:
    now = [0.0]
    limiter = SlidingWindowLimiter(2, 60.0, clock=lambda: now[0])
    assert limiter.hit(1).allowed and limiter.hit(1).allowed
    refused = limiter.hit(1)
    assert not refused.allowed and refused.notify and refused.retry_after == 60.0
    assert not limiter.hit(1).notify
    now[0] = 30.0
    assert not limiter.hit(1).allowed and limiter.hit(2).allowed
    now[0] = 60.5  # both events left the window, and so did the notice
    assert limiter.hit(1).allowed and limiter.hit(1).allowed
    assert limiter.hit(1).notify


# ----- errors -----


async def test_an_unexpected_error_gets_an_apology_without_details(
    loaded: Services,
    bot: BotApplication,
    telegram: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def boom(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(loaded.market, "price_summary", boom)
    telegram.message("/price btc", user_id=ALICE)
    (reply,) = await telegram.wait_for("sendMessage", chat_id=ALICE)
    await bot.update_queue.join()
    assert reply.text == APOLOGY
    for call in telegram.sent():
        assert "boom" not in call.text and "Traceback" not in call.text
    assert any(r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)


# ----- webhook -----


def webhook_app(services: Services, settings: Settings) -> FastAPI:
    """A minimal API with the router and the lifespan hooks, as api.main will wire them."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.telegram = await start_webhook_bot(services, settings)
        yield
        await stop_webhook_bot(app.state.telegram)

    app = FastAPI(lifespan=lifespan)
    app.include_router(webhook_router)
    return app


def test_webhook_checks_the_secret_then_answers(
    loaded: Services, bot_settings: Callable[..., Settings], telegram: FakeTelegram
) -> None:
    settings = bot_settings(
        telegram_webhook_secret=WEBHOOK_SECRET,
        telegram_webhook_url="https://bot.example.org/telegram/webhook",
    )
    update = telegram.make_update("/price eth", user_id=ALICE)
    with TestClient(webhook_app(loaded, settings)) as client:
        (registered,) = telegram.calls("setWebhook")
        assert registered.fields["url"] == "https://bot.example.org/telegram/webhook"
        assert registered.fields["secret_token"] == WEBHOOK_SECRET
        assert registered.json_field("allowed_updates") == ["message"]

        missing = client.post("/telegram/webhook", json=update)
        wrong = client.post("/telegram/webhook", json=update, headers={AUTH_HEADER: "nope"})
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "missing_secret"
        assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "invalid_secret"
        assert set(wrong.json()["error"]) == {"code", "message", "details"}
        bad = client.post(
            "/telegram/webhook", content=b"[1]", headers={AUTH_HEADER: WEBHOOK_SECRET}
        )
        assert bad.status_code == 400

        ok = client.post("/telegram/webhook", json=update, headers={AUTH_HEADER: WEBHOOK_SECRET})
        assert ok.status_code == 200
        (reply,) = telegram.wait_for_sync("sendMessage", chat_id=ALICE)
    close = float(BARS["ETH-USD"]["close"].iloc[-1])
    assert f"{close:,.2f} USD" in reply.text and "Ethereum (ETH-USD)" in reply.text
    assert len(telegram.sent()) == 1  # the refused calls sent nothing
    assert telegram.calls("getUpdates") == []


def test_webhook_without_a_bot_is_unavailable(
    loaded: Services, make_settings: Callable[..., Settings]
) -> None:
    with TestClient(webhook_app(loaded, make_settings())) as client:
        res = client.post("/telegram/webhook", json={}, headers={AUTH_HEADER: "x"})
    assert res.status_code == 503
    assert res.json()["error"]["code"] == "telegram_unavailable"


# ----- the `crypto-assistant bot` entry point -----


def test_main_polls_until_interrupted(
    loaded: Services, database_url: str, tmp_path: Path, telegram: FakeTelegram
) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "DATA_HOME": str(tmp_path / "var"),
        "MARKET_PROVIDER": "none",
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
    }
    script = "from agent.settings import load_settings; from bots.telegram_bot import main; main(load_settings())"
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        telegram.message("is btc oversold?", user_id=ALICE)
        (reply,) = telegram.wait_for_sync("sendMessage", chat_id=ALICE, timeout=90)
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output.decode()
    assert "<b>Technical view on BTC-USD</b>" in reply.text
    (menu,) = telegram.calls("setMyCommands")
    assert [c["command"] for c in menu.json_field("commands")] == [
        "price", "ta", "chart", "forecast", "backtest", "sentiment", "ask", "help"
    ]  # fmt: skip
    assert telegram.pending_updates() == 0  # the offset was confirmed before exiting


def test_main_refuses_settings_that_cannot_work(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(BotStartError, match="TELEGRAM_BOT_TOKEN"):
        main(make_settings())
    with pytest.raises(BotStartError, match="TELEGRAM_WEBHOOK_URL"):
        main(make_settings(telegram_bot_token="1:x", telegram_webhook_url="https://x.org/hook"))


def test_serve_polls_telegram_from_the_api_process(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """With a token and no webhook URL, the API lifespan runs the bot in polling mode."""
    from api.main import create_app

    with FakeTelegram() as fake:
        settings = make_settings(telegram_bot_token=fake.token, telegram_api_base_url=fake.base_url)
        services = Services.build(settings)
        import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", synthetic_bars(60)))
        with TestClient(create_app(settings, services)):
            fake.message("/price btc", user_id=5, chat_id=5)
            fake.wait_for_sync("sendMessage", 1, chat_id=5)
        assert "BTC" in fake.sent_texts()[-1]
        services.db.close()
