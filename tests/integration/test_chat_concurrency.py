"""Concurrent turns: on one thread they run one at a time and each answers its own question;
on many threads they run side by side."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.core import Services
from agent.graph.chat import ChatService
from agent.offline import formatting as fmt
from agent.settings import Settings
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv

COINS = {"BTC": 1, "ETH": 2, "SOL": 3, "BNB": 4, "XRP": 5}
TURNS = 50


def load_coins(services: Services, folder: Path) -> dict[str, str]:
    """Store bars for every coin of COINS; the last close of each, as answers write it."""
    closes = {}
    for coin, seed in COINS.items():
        bars = synthetic_bars(200, seed=seed, price=100.0 * seed)
        import_file(services.prices, write_csv(folder, f"{coin}-USD.csv", bars))
        closes[coin] = fmt.price(float(bars["close"].iloc[-1]))
    return closes


async def run_turns(
    chat: ChatService, threads: list[str], coins: list[str]
) -> list[tuple[str, str, float]]:
    """Ask "what is X at?" for every (thread, coin) at once; (coin, answer, seconds) each."""

    async def one(thread: str, coin: str) -> tuple[str, str, float]:
        began = time.perf_counter()
        result = await chat.reply(thread, f"what is {coin} at?")
        return coin, result.answer, time.perf_counter() - began

    return list(await asyncio.gather(*(one(t, c) for t, c in zip(threads, coins, strict=True))))


def p95(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def check_answers(answers: list[tuple[str, str, float]], closes: dict[str, str]) -> None:
    for coin, answer, _ in answers:
        assert f"{coin}-USD" in answer, (coin, answer)
        assert closes[coin] in answer, (coin, closes[coin], answer)
        others = [c for c in COINS if c != coin and f"{c}-USD" in answer]
        assert not others, (coin, others, answer)


@pytest.mark.timeout(300)
def test_fifty_turns_on_one_thread_and_on_fifty_threads(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    services = Services.build(make_settings(history_messages=200, turn_timeout_seconds=120))
    closes = load_coins(services, tmp_path)
    coins = [list(COINS)[i % len(COINS)] for i in range(TURNS)]

    async def scenario() -> None:
        try:
            await check(await services.start_chat())
        finally:
            await services.aclose()

    async def check(chat: ChatService) -> None:
        same = await run_turns(chat, ["one"] * TURNS, coins)
        check_answers(same, closes)
        history = await chat.history("one")
        users = [m for m in history if m["role"] == "user"]
        assert len(users) == TURNS, len(users)
        assert len(history) == 2 * TURNS
        asked = sorted(m["text"] for m in users)
        assert asked == sorted(f"what is {c} at?" for c in coins)
        for question, answer in zip(history[::2], history[1::2], strict=True):
            assert question["role"] == "user" and answer["role"] == "assistant"
            coin = question["text"].split()[2]
            assert f"{coin}-USD" in answer["text"] and closes[coin] in answer["text"]

        many = await run_turns(chat, [f"t{i}" for i in range(TURNS)], coins)
        check_answers(many, closes)
        for i in range(TURNS):
            assert len(await chat.history(f"t{i}")) == 2
        same_p95 = p95([s for *_, s in same])
        many_p95 = p95([s for *_, s in many])
        print(f"\np95 one thread: {same_p95:.2f}s, fifty threads: {many_p95:.2f}s")

    asyncio.run(scenario())
