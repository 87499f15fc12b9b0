"""The Chainlit web chat: one `ChatService` turn per message, streamed, with its tool steps.

Loaded by `chainlit.utils.mount_chainlit` (see `ui.mount`), under the API at `/ui`. Each
message is a turn of the agent on the Chainlit thread id, so follow-ups use the thread's
Postgres memory. Tool calls show as steps with their arguments and a short result, the
grounded answer streams in as tokens, and a turn that ran a technical analysis ends with the
candle chart of the analysed symbol.

A new conversation opens on the welcome screen (our logo from `ui/public/`, the composer and
the starters). The starters and a hint are computed per page load and per session: while no
coin has a daily bar stored, only questions that need no data are offered, and a system
message (sent to that browser only, never stored) gives the command that loads market data.

Conversations are stored (`ui.threads`) for the logged-in user (`ui.auth`: one local user, or
the one a trusted proxy names), so the sidebar lists them and opening one resumes it: the
resumed session keeps the conversation's thread id, hence the agent's memory of it. The agent
keeps that memory under the web namespace and for that user only (another user gets 404).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import chainlit as cl
from chainlit.data.base import BaseDataLayer
from chainlit.types import ThreadDict
from starlette.datastructures import Headers

from agent.core import Services
from agent.errors import KnowledgeError, ServiceError, ToolError
from ui.auth import web_user
from ui.charts import chart_elements
from ui.scope import services_for_scope, serving_app, started_services
from ui.steps import ToolSteps
from ui.threads import PostgresDataLayer

log = logging.getLogger(__name__)

STARTERS = [
    cl.Starter(label="RSI of Bitcoin", message="What is the RSI of BTC?"),
    cl.Starter(label="Bitcoin vs Ether, 30 days", message="Compare BTC and ETH"),
    cl.Starter(label="Is Solana oversold?", message="Is SOL oversold?"),
    cl.Starter(label="What is MACD?", message="What is MACD?"),
]
# answered from the indicator glossary: they work before any market data is stored
CONCEPT_STARTERS = [
    cl.Starter(label="What is MACD?", message="What is MACD?"),
    cl.Starter(label="What is RSI?", message="What is RSI?"),
    cl.Starter(label="What are Bollinger Bands?", message="What are Bollinger Bands?"),
]
SHIPPED_PRICES = "../shared/data/prices"  # the CSV files shipped beside the project (README)
NOT_READY = (
    "The assistant is not ready: its services are still starting or this page is not served "
    "by the API. Start it with `crypto-assistant serve` (or `make run`) and open /ui."
)


@cl.data_layer
def web_chat_history() -> BaseDataLayer:
    """Chainlit's persistence: conversations stored in the assistant's own Postgres.

    Declaring it also stops Chainlit from reading our `DATABASE_URL` and looking for its own
    tables (and the asyncpg driver) in the assistant's database.
    """
    return PostgresDataLayer()


@cl.header_auth_callback
async def login(headers: Headers) -> cl.User | None:
    """Log the browser in without a form: the local user, or the user a trusted proxy names.

    Refused (None) when the app's services are not started, since the header setting is theirs.
    """
    services = started_services(serving_app())
    if services is None:
        return None
    return web_user(headers, services.settings.web_user_header)


@cl.on_chat_resume
async def on_chat_resume(thread: ThreadDict) -> None:
    """Continue a stored conversation opened from the sidebar (or reloaded at its URL).

    Chainlit redisplays the stored messages, steps and charts; the session must carry the
    conversation's thread id, which is the agent's memory key, so the next message is answered
    as a follow-up of the stored conversation.
    """
    session = cl.context.session
    session.thread_id = thread["id"]
    log.info("web chat resumed thread %s", thread["id"])


@cl.set_starters
async def starters(user: cl.User | None = None, language: str | None = None) -> list[cl.Starter]:
    """The example questions shown on an empty thread: concepts only while no data is stored.

    Chainlit asks for them on each page load (`/project/settings`), so they follow the store.
    """
    services = started_services(serving_app())
    if services is not None and await store_is_empty(services):
        return CONCEPT_STARTERS
    return STARTERS


async def store_is_empty(services: Services) -> bool:
    """True when no coin of the catalogue has a daily bar stored (False if that is unknown)."""
    try:
        coins = await asyncio.to_thread(services.market.cryptocurrencies)
    except (ServiceError, KnowledgeError) as exc:
        log.warning("web chat: market coverage unavailable: %s", exc)
        return False
    return not any(coin["rows"] for coin in coins)


def empty_store_hint(services: Services) -> str:
    """The one command that loads market data: the configured folder, else the shipped one."""
    folder = services.settings.crypto_data_dir or SHIPPED_PRICES
    return (
        "**No market data is stored yet**, so questions about prices and indicators cannot be "
        "answered. Load the daily prices from the project folder, then start a new chat:\n\n"
        f"```bash\n.venv/bin/crypto-assistant data import {folder}\n```\n\n"
        "Questions about concepts, such as *What is MACD?*, work already."
    )


@cl.on_chat_start
async def on_chat_start() -> None:
    """A new conversation: say how to load market data when the store has none.

    The hint is a system message sent to this browser only, not stored: the welcome screen
    (logo, composer, starters) stays, and a conversation resumed later does not repeat it.
    """
    services = current_services()
    if services is None or not await store_is_empty(services):
        return
    hint = cl.Message(content=empty_store_hint(services), type="system_message")
    await cl.context.emitter.send_step(hint.to_dict())


def current_services() -> Services | None:
    """The services of the API app that serves this browser session."""
    environ = getattr(cl.context.session, "environ", None) or {}
    return services_for_scope(environ.get("asgi.scope"))


def _sources_line(sources: list[dict[str, Any]]) -> str:
    titles = []
    for source in sources:
        title = str(source.get("title") or source.get("source") or "")
        if source.get("section"):
            title += f" ({source['section']})"
        if title and title not in titles:
            titles.append(title)
    return "\n\n**Sources:** " + "; ".join(titles) if titles else ""


async def _run_turn(
    services: Services, text: str, steps: ToolSteps, answer: cl.Message
) -> dict[str, Any]:
    """Stream one turn into the steps and the answer message; return the final result."""
    assert services.chat is not None  # checked by `services_for_scope`
    session = cl.context.session
    user = session.user.identifier if session.user else None
    final: dict[str, Any] = {}
    events = services.chat.astream(  # the thread belongs to the web user: 404 for another
        session.thread_id, text, surface="web", user=user, principal=user or "anonymous"
    )
    async for event in events:
        if event.type == "tool_start":
            await steps.start(event.data)
        elif event.type == "tool_result":
            await steps.finish(event.data)
        elif event.type == "token":
            await answer.stream_token(str(event.data.get("text", "")))
        elif event.type == "final":
            final = event.data
    return final


@cl.on_message
async def on_message(message: cl.Message) -> None:
    """Answer one message: tool steps, streamed grounded answer, then the charts."""
    services = current_services()
    if services is None:
        await cl.ErrorMessage(content=NOT_READY).send()
        return
    steps = ToolSteps()
    answer = cl.Message(content="")
    try:
        final = await _run_turn(services, message.content, steps, answer)
    except (ServiceError, KnowledgeError, ToolError) as exc:
        await steps.abandon(str(exc))
        await cl.ErrorMessage(content=str(exc)).send()
        return
    except BaseException as exc:  # stopped by the user or an unexpected failure
        stopped = isinstance(exc, asyncio.CancelledError)
        await steps.abandon("the turn was stopped" if stopped else "the turn failed")
        raise
    if not answer.content:
        answer.content = str(final.get("answer", ""))
    extra = _sources_line(final.get("sources") or [])
    elements, notes = await chart_elements(services, final.get("tools_used") or [])
    extra += "".join(f"\n\n_{note}_" for note in notes)
    if extra:
        await answer.stream_token(extra)
    await answer.send()
    for element in elements:  # the charts go under the answer they illustrate
        await element.send(for_id=answer.id)
