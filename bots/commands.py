"""The bot's handlers: guards first, then commands and free text, all through the agent package.

Handlers raise service errors instead of catching them; the application's error handler turns
known ones into specific replies and everything else into an apology (see `telegram_bot`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from agent.core import Services
from agent.errors import ChartRenderError, UnknownRuleError
from agent.settings import Settings
from bots import backtest as bt
from bots import formatting as tg
from bots.guards import AllowList, ChatLocks, SlidingWindowLimiter

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
Callback = Callable[[Update, Context], Coroutine[Any, Any, None]]

REFUSAL = "Sorry, this bot is private and you are not on its list of users."
TYPING_REFRESH_SECONDS = 4.0
"""Telegram shows a chat action for about 5 s; it is re-sent while a slow answer is built."""


def thread_id(chat_id: int) -> str:
    """One conversation thread per Telegram chat."""
    return f"tg-{chat_id}"


def principal(chat_id: int) -> str:
    """The owner of the chat's thread: the chat itself, so no other surface or chat can read it."""
    return f"chat:{chat_id}"


async def send_html(message: Message, chunks: Sequence[str]) -> None:
    """Send HTML chunks as replies in order; if Telegram rejects the markup, send it as text."""
    for chunk in chunks:
        try:
            await message.reply_text(chunk, parse_mode=ParseMode.HTML)
        except BadRequest as exc:
            if "parse" not in str(exc).lower():
                raise
            log.warning("Telegram rejected the HTML of a reply (%s); sending it as text", exc)
            await message.reply_text(tg.plain(chunk))


@contextlib.asynccontextmanager
async def chat_action(message: Message, action: str) -> AsyncIterator[None]:
    """Show `typing…` (or `sending photo…`) until the block finishes; failures are ignored."""

    async def keep_showing() -> None:
        while True:
            with contextlib.suppress(TelegramError):
                await message.get_bot().send_chat_action(message.chat_id, action)
            await asyncio.sleep(TYPING_REFRESH_SECONDS)

    task = asyncio.create_task(keep_showing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _argument(message: Message) -> str:
    """The text after the command (`/ask is btc oversold?` -> `is btc oversold?`)."""
    parts = (message.text or "").split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


class BotHandlers:
    """Callbacks bound to the services; one instance per Application."""

    def __init__(self, services: Services, settings: Settings) -> None:
        self.services = services
        self.settings = settings
        self.allow_list = AllowList(settings.telegram_allowed_users)
        self.rate_limit = SlidingWindowLimiter(settings.telegram_rate_limit_per_minute, 60.0)
        self.refusals = SlidingWindowLimiter(1, 60.0)
        self.turns = ChatLocks()

    # ----- guards (run before every other handler) -----

    async def guard_allowed(self, update: Update, context: Context) -> None:
        """Stop updates from users outside the allow-list, with one short refusal a minute."""
        user = update.effective_user
        if self.allow_list.allows(user.id if user else None):
            return
        message = update.effective_message
        log.info("refused an update from user %s", user.id if user else None)
        if message is not None and self.refusals.hit(message.chat_id).allowed:
            await message.reply_text(REFUSAL)
        raise ApplicationHandlerStop

    async def guard_rate(self, update: Update, context: Context) -> None:
        """Stop a chat's updates beyond the per-minute limit, saying when to try again."""
        chat = update.effective_chat
        if chat is None:
            raise ApplicationHandlerStop
        decision = self.rate_limit.hit(chat.id)
        if decision.allowed:
            return
        message = update.effective_message
        if decision.notify and message is not None:
            wait = max(int(decision.retry_after + 0.999), 1)
            await message.reply_text(
                f"You're sending messages faster than I can answer "
                f"({self.rate_limit.limit} a minute). Please try again in {wait} s."
            )
        raise ApplicationHandlerStop

    # ----- commands -----

    def _symbols(self) -> list[str]:
        return self.services.market.symbols(None)

    async def start(self, update: Update, context: Context) -> None:
        """/start: greeting and help."""
        message = update.effective_message
        if message is None:
            return
        first_name = update.effective_user.first_name if update.effective_user else None
        await send_html(message, [tg.start_message(first_name, self._symbols())])

    async def help(self, update: Update, context: Context) -> None:
        """/help: commands, examples, supported coins."""
        if update.effective_message is not None:
            await send_html(update.effective_message, [tg.help_message(self._symbols())])

    async def _needs_argument(self, message: Message, example: str) -> str | None:
        argument = _argument(message)
        if not argument:
            await message.reply_text(f"Please add what you mean, for example: {example}")
            return None
        return argument

    async def price(self, update: Update, context: Context) -> None:
        """/price SYMBOL: last close and daily change."""
        message = update.effective_message
        if message is None or not (symbol := await self._needs_argument(message, "/price BTC")):
            return
        summary = await self.services.market.price_summary(symbol, period_days=1, interval="1d")
        await send_html(message, [tg.price_message(summary)])

    async def technical(self, update: Update, context: Context) -> None:
        """/ta SYMBOL: stance, readings, top signals with reasons, levels."""
        message = update.effective_message
        if message is None or not (symbol := await self._needs_argument(message, "/ta ETH")):
            return
        async with chat_action(message, ChatAction.TYPING):
            report = await self.services.technical.report(symbol)
        await send_html(message, tg.split_html(tg.technical_message(report)))

    async def chart(self, update: Update, context: Context) -> None:
        """/chart SYMBOL: the technical chart as a photo."""
        message = update.effective_message
        if message is None or not (text := await self._needs_argument(message, "/chart SOL")):
            return
        symbol = self.services.market.symbols([text])[0]
        async with chat_action(message, ChatAction.UPLOAD_PHOTO):
            png = await self.services.technical.chart_png(symbol, width=1200, height=900)
        await message.reply_photo(
            png,
            caption=tg.chart_caption(symbol),
            parse_mode=ParseMode.HTML,
            filename=f"{symbol}.png",
        )

    async def backtest(self, update: Update, context: Context) -> None:
        """/backtest SYMBOL RULE: the rule's record at 7 days and its strategy against
        buy-and-hold, then the equity chart as a photo (the text alone when charts fail)."""
        message = update.effective_message
        if message is None or not (text := await self._needs_argument(message, bt.USAGE)):
            return
        symbol, _, rule = text.partition(" ")
        if not rule.strip():
            await send_html(message, [bt.rules_hint("Which rule should I backtest?")])
            return
        try:
            async with chat_action(message, ChatAction.TYPING):
                report = await self.services.backtests.run(symbol, rule.strip())
        except UnknownRuleError as exc:
            await send_html(message, [bt.rules_hint(f"I don't know the rule “{exc.rule}”.")])
            return
        await send_html(message, tg.split_html(bt.backtest_message(report)))
        try:
            async with chat_action(message, ChatAction.UPLOAD_PHOTO):
                png = await self.services.backtests.chart_png(report)
        except ChartRenderError as exc:
            log.warning("backtest chart not sent: %s", exc)
            return
        await message.reply_photo(
            png,
            caption=bt.backtest_caption(report),
            parse_mode=ParseMode.HTML,
            filename=f"{report['symbol']}-{report['rule']}.png",
        )

    async def ask(self, update: Update, context: Context) -> None:
        """/ask QUESTION: one conversation turn."""
        message = update.effective_message
        if message is None:
            return
        question = await self._needs_argument(message, "/ask is BTC oversold?")
        if question:
            await self._converse(update, message, question)

    async def text(self, update: Update, context: Context) -> None:
        """Free text: one conversation turn in the chat's thread."""
        message = update.effective_message
        if message is not None and message.text:
            await self._converse(update, message, message.text)

    async def _converse(self, update: Update, message: Message, question: str) -> None:
        chat = await self.services.start_chat()
        user = update.effective_user
        async with self.turns.hold(message.chat_id), chat_action(message, ChatAction.TYPING):
            result = await chat.reply(
                thread_id(message.chat_id),
                question,
                surface="telegram",
                user=str(user.id) if user else None,
                principal=principal(message.chat_id),
            )
        await send_html(message, tg.render(result.answer, tg.sources_html(result.sources)))

    async def forecast(self, update: Update, context: Context) -> None:
        """/forecast SYMBOL [DAYS]: the agent's forecast answer, with the model's skill."""
        message = update.effective_message
        if message is None or not (text := await self._needs_argument(message, "/forecast BTC 7")):
            return
        words = text.split()
        days = words[1] if len(words) > 1 and words[1].isdigit() else "7"
        await self._converse(update, message, f"forecast {words[0]} for the next {days} days")

    async def sentiment(self, update: Update, context: Context) -> None:
        """/sentiment SYMBOL: the agent's news-mood answer (sources, count, freshness)."""
        message = update.effective_message
        if message is None or not (text := await self._needs_argument(message, "/sentiment SOL")):
            return
        await self._converse(update, message, f"what is the news sentiment on {text.split()[0]}?")

    async def unknown(self, update: Update, context: Context) -> None:
        """Any other command."""
        if update.effective_message is not None:
            await update.effective_message.reply_text("I don't know that command. See /help.")

    def command_callbacks(self) -> dict[str, Callback]:
        """Command name -> callback, in the order they are registered."""
        return {
            "start": self.start,
            "help": self.help,
            "price": self.price,
            "ta": self.technical,
            "chart": self.chart,
            "backtest": self.backtest,
            "ask": self.ask,
            "forecast": self.forecast,
            "sentiment": self.sentiment,
        }
