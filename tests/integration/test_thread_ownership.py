"""Conversations belong to a principal: an API key, a web user, a Telegram chat. Another
principal's thread answers 404; each surface has its own namespace of thread ids; threads
stored before ownership keep their owner (migration 0007)."""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from agent.core import Services
from agent.errors import NotFoundError
from agent.graph.chat import ChatService
from agent.settings import Settings
from api.main import create_app
from knowledge.market.csv_files import import_file
from knowledge.migrations import apply_migrations
from tests.factories import synthetic_bars, write_csv

NOT_FOUND = {
    "error": {"code": "not_found", "message": "No conversation with that id.", "details": None}
}
KEY_A = {"X-API-Key": "key-of-alice"}
KEY_B = {"X-API-Key": "key-of-bob"}


def key_principal(headers: dict[str, str]) -> str:
    """The principal the API derives from an `X-API-Key` header."""
    return "key:" + hashlib.sha256(headers["X-API-Key"].encode()).hexdigest()


@pytest.fixture
def loaded(make_settings: Callable[..., Settings], tmp_path: Path) -> Iterator[Services]:
    """Services with BTC and ETH bars, a rate limit out of the way."""
    services = Services.build(make_settings(rate_limit_chat_per_minute=100_000))
    for seed, coin in enumerate(("BTC", "ETH"), start=1):
        bars = synthetic_bars(300, seed=seed, price=100.0 * seed)
        import_file(services.prices, write_csv(tmp_path, f"{coin}-USD.csv", bars))
    yield services
    services.db.close()


@pytest.fixture
def api(loaded: Services) -> Iterator[TestClient]:
    with TestClient(create_app(loaded.settings, loaded, load_data=False)) as client:
        yield client


def in_app(client: TestClient, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a coroutine function on the app's event loop (where its chat pools live)."""
    assert client.portal is not None
    return client.portal.call(functools.partial(fn, *args, **kwargs))


def app_chat(client: TestClient, services: Services) -> ChatService:
    return in_app(client, services.start_chat)  # type: ignore[no-any-return]


def test_a_telegram_chats_thread_cannot_be_read_or_continued_through_rest_chat(
    api: TestClient, loaded: Services
) -> None:
    chat = app_chat(api, loaded)
    owner: dict[str, Any] = {"surface": "telegram", "principal": "chat:4242"}
    in_app(api, chat.reply, "tg-4242", "what is BTC at?", **owner)
    before = in_app(api, chat.history, "tg-4242", **owner)
    assert len(before) == 2

    for thread, headers in (("tg-4242", {}), ("tg-4242", KEY_B), ("telegram:tg-4242", KEY_A)):
        res = api.post("/chat", json={"message": "and ETH?", "thread_id": thread}, headers=headers)
        if headers is KEY_B:  # the anonymous caller's API thread "tg-4242" now
            assert res.status_code == 404 and res.json() == NOT_FOUND
            continue
        assert res.status_code == 200, res.text
        assert "BTC-USD" not in res.json()["answer"]  # no memory of the Telegram turn
    stream = api.post("/chat/stream", json={"message": "and ETH?", "thread_id": "tg-4242"})
    assert stream.status_code == 200

    assert in_app(api, chat.history, "tg-4242", **owner) == before
    assert len(in_app(api, chat.history, "tg-4242")) == 4  # the API's own thread: two turns
    with pytest.raises(NotFoundError):  # another Telegram chat
        in_app(api, chat.history, "tg-4242", surface="telegram", principal="chat:1")


async def test_a_web_users_thread_is_not_found_for_another_web_user(loaded: Services) -> None:
    chat = await loaded.start_chat()
    try:
        alice: dict[str, Any] = {"surface": "web", "principal": "alice"}
        bob: dict[str, Any] = {"surface": "web", "principal": "bob"}
        await chat.reply("web-thread-1", "what is BTC at?", **alice)
        before = await chat.history("web-thread-1", **alice)
        with pytest.raises(NotFoundError, match="No conversation with that id"):
            await chat.reply("web-thread-1", "and ETH?", **bob)
        with pytest.raises(NotFoundError):
            await anext(chat.astream("web-thread-1", "and ETH?", **bob))
        with pytest.raises(NotFoundError):
            await chat.history("web-thread-1", **bob)
        assert await chat.history("web-thread-1", **alice) == before
        follow = await chat.reply("web-thread-1", "and ETH?", **alice)
        assert "ETH-USD" in follow.answer
        assert len(await chat.history("web-thread-1", **alice)) == 4
    finally:
        await loaded.aclose()


def test_an_api_key_thread_is_not_found_for_another_key_or_anonymous(
    api: TestClient, loaded: Services
) -> None:
    first = {"message": "what is BTC at?", "thread_id": "mine"}
    assert api.post("/chat", json=first, headers=KEY_A).status_code == 200
    follow = {"message": "and ETH?", "thread_id": "mine"}
    for headers in (KEY_B, {}):
        for route in ("/chat", "/chat/stream"):
            res = api.post(route, json=follow, headers=headers)
            assert res.status_code == 404, (route, res.text)
            assert res.json() == NOT_FOUND
        res = api.post("/ai-analysis", json={"question": "and ETH?", "thread_id": "mine"})
        assert res.status_code == 404 and res.json() == NOT_FOUND

    chat = app_chat(api, loaded)
    assert len(in_app(api, chat.history, "mine", principal=key_principal(KEY_A))) == 2
    again = api.post("/chat", json=follow, headers=KEY_A)
    assert again.status_code == 200 and "ETH-USD" in again.json()["answer"]
    history = in_app(api, chat.history, "mine", principal=key_principal(KEY_A))
    assert [m["text"] for m in history[::2]] == ["what is BTC at?", "and ETH?"]


async def test_the_same_thread_id_on_different_surfaces_is_a_different_conversation(
    loaded: Services,
) -> None:
    chat = await loaded.start_chat()
    try:
        callers: list[dict[str, Any]] = [
            {"surface": "api", "principal": "anonymous"},
            {"surface": "web", "principal": "anonymous"},
            {"surface": "telegram", "principal": "anonymous"},
        ]
        for caller, coin in zip(callers, ("BTC", "ETH", "BTC"), strict=True):
            await chat.reply("shared", f"what is {coin} at?", **caller)
        for caller, coin in zip(callers, ("BTC", "ETH", "BTC"), strict=True):
            history = await chat.history("shared", **caller)
            assert [m["text"] for m in history[::2]] == [f"what is {coin} at?"], caller
    finally:
        await loaded.aclose()


async def test_of_principals_racing_for_a_new_thread_exactly_one_gets_it(
    loaded: Services,
) -> None:
    chat = await loaded.start_chat()
    try:
        outcomes = await asyncio.gather(
            *(chat.reply("contested", "what is BTC at?", principal=f"p{i}") for i in range(8)),
            return_exceptions=True,
        )
        won = [i for i, o in enumerate(outcomes) if not isinstance(o, BaseException)]
        assert len(won) == 1, outcomes
        assert all(isinstance(o, NotFoundError) for o in outcomes if o is not outcomes[won[0]])
        assert len(await chat.history("contested", principal=f"p{won[0]}")) == 2
    finally:
        await loaded.aclose()


async def test_web_and_telegram_threads_stored_before_ownership_keep_their_owner(
    loaded: Services,
) -> None:
    chat = await loaded.start_chat()
    try:
        web: dict[str, Any] = {"surface": "web", "principal": "alice"}
        telegram: dict[str, Any] = {"surface": "telegram", "principal": "chat:4242"}
        await chat.reply("3f1c-web", "what is BTC at?", **web)
        await chat.reply("tg-4242", "what is ETH at?", **telegram)
        web_before = await chat.history("3f1c-web", **web)
        tg_before = await chat.history("tg-4242", **telegram)
        with loaded.db.connection() as conn:  # back to the layout before migration 0007
            conn.execute(
                "INSERT INTO web_users (id, identifier) VALUES (gen_random_uuid(), 'alice')"
            )
            conn.execute(
                "INSERT INTO web_threads (id, user_id) "
                "SELECT '3f1c-web', id FROM web_users WHERE identifier = 'alice'"
            )
            for table in ("checkpoints", "checkpoint_blobs", "checkpoint_writes"):
                conn.execute(
                    sql.SQL(
                        "UPDATE {} SET thread_id = split_part(thread_id, ':', 2) "
                        "WHERE thread_id IN ('web:3f1c-web', 'telegram:tg-4242')"
                    ).format(sql.Identifier(table))
                )
            conn.execute("DROP TABLE thread_owners")
            conn.execute("DELETE FROM schema_migrations WHERE version = 7")
        assert apply_migrations(loaded.db) == ["0007_thread_owners.sql"]

        assert await chat.history("3f1c-web", **web) == web_before
        assert await chat.history("tg-4242", **telegram) == tg_before
        with pytest.raises(NotFoundError):
            await chat.history("3f1c-web", surface="web", principal="bob")
        with pytest.raises(NotFoundError):
            await chat.reply("tg-4242", "and BTC?", surface="telegram", principal="chat:1")
    finally:
        await loaded.aclose()
