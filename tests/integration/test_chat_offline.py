"""The conversation in offline mode, end to end through the API and ChatService."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.core import Services
from knowledge.market.csv_files import import_file
from tests.factories import synthetic_bars, write_csv

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def loaded(services: Services, tmp_path: Path) -> Services:
    for name, seed in (("BTC-USD", 1), ("ETH-USD", 2), ("SOL-USD", 3)):
        import_file(
            services.prices, write_csv(tmp_path, f"{name}.csv", synthetic_bars(300, seed=seed))
        )
    return services


@pytest.fixture
def api(loaded: Services) -> Iterator[TestClient]:
    from api.main import create_app

    with TestClient(create_app(loaded.settings, loaded)) as client:
        yield client


def test_rsi_question_answers_with_the_technical_value(api: TestClient) -> None:
    res = api.post("/chat", json={"message": "What is the RSI of BTC?", "thread_id": "t-rsi"})
    assert res.status_code == 200
    body = res.json()
    rsi = api.post("/technical", json={"symbol": "BTC-USD"}).json()["values"]["rsi_14"]
    assert f"RSI 14 {rsi:.1f}" in body["answer"]
    assert body["mode"] == "offline" and body["grounded"] is True
    assert "without a language model" in body["answer"]
    (tool,) = body["tools_used"]
    assert tool["name"] == "technical_analysis" and tool["args"]["symbol"] == "BTC-USD"
    assert tool["ok"] is True


def test_follow_ups_use_the_thread_memory(api: TestClient) -> None:
    api.post("/chat", json={"message": "is btc oversold?", "thread_id": "t-follow"})
    second = api.post("/chat", json={"message": "and for ETH?", "thread_id": "t-follow"}).json()
    assert [t["args"]["symbol"] for t in second["tools_used"]] == ["ETH-USD"]
    assert "ETH-USD" in second["answer"]
    third = api.post(
        "/chat", json={"message": "what about the hourly chart?", "thread_id": "t-follow"}
    ).json()
    assert third["tools_used"][0]["args"] == {
        "symbol": "ETH-USD",
        "interval": "1h",
        "indicators": None,
        "as_of": None,
    }
    # no hourly bars were loaded: the tool error is a readable answer, not a crash
    assert third["tools_used"][0]["ok"] is False
    assert "No 1h data stored for ETH-USD" in third["answer"]


def test_a_new_thread_has_no_memory(api: TestClient) -> None:
    api.post("/chat", json={"message": "is btc oversold?", "thread_id": "t-a"})
    other = api.post("/chat", json={"message": "and the price?", "thread_id": "t-b"}).json()
    assert other["tools_used"] == []
    assert "Which coin do you mean?" in other["answer"]


def test_advice_combines_tools_and_adds_a_risk_note(api: TestClient) -> None:
    body = api.post("/ai-analysis", json={"question": "should I buy?", "symbol": "sol"}).json()
    assert {t["name"] for t in body["tools_used"]} == {
        "get_price",
        "technical_analysis",
        "forecast_price",
        "news_sentiment",
    }
    assert "Risk note" in body["answer"] and "not financial advice" in body["answer"]
    forecast = next(t for t in body["tools_used"] if t["name"] == "forecast_price")
    assert forecast["ok"] is False  # no model trained in this test: said, not invented
    assert "crypto-assistant models train SOL-USD" in body["answer"]


def test_stream_sends_tool_steps_then_tokens_then_the_result(api: TestClient) -> None:
    with api.stream("POST", "/chat/stream", json={"message": "compare btc and eth"}) as res:
        assert res.headers["content-type"].startswith("text/event-stream")
        text = "".join(res.iter_text())
    events = [block.split("\n", 1) for block in text.strip().split("\n\n")]
    kinds = [head.removeprefix("event: ") for head, _ in events]
    assert kinds[0] == "tool_start" and kinds[-1] == "final"
    assert kinds.count("tool_start") == kinds.count("tool_result") == 4
    assert kinds.index("token") > max(i for i, k in enumerate(kinds) if k == "tool_result")
    final = json.loads(events[-1][1].removeprefix("data: "))
    tokens = "".join(
        json.loads(d.removeprefix("data: "))["text"] for h, d in events if h.endswith("token")
    )
    assert tokens == final["answer"]


def test_bad_messages_get_clear_errors(api: TestClient) -> None:
    assert api.post("/chat", json={"message": "   "}).json()["error"]["code"] == "invalid_request"
    long = api.post("/chat", json={"message": "x" * 5000}).json()["error"]
    assert "longer than 2000 characters" in long["message"]
    bad_thread = api.post("/chat", json={"message": "hi", "thread_id": "a b"})
    assert bad_thread.status_code == 422


async def test_tool_call_limit_per_turn(loaded: Services) -> None:
    loaded.settings.max_tool_calls = 2
    chat = await loaded.start_chat()
    result = await chat.reply("t-limit", "compare btc, eth and sol")
    assert len(result.tools_used) == 2
    assert any("only 2 of 6 tool calls were run" in n for n in result.notes)


async def test_long_threads_are_trimmed(loaded: Services) -> None:
    loaded.settings.history_messages = 6
    chat = await loaded.start_chat()
    for _ in range(5):
        await chat.reply("t-trim", "hello")
    assert len(await chat.history("t-trim")) <= 6


def test_a_follow_up_in_a_new_process_resolves_the_earlier_symbol(
    loaded: Services, database_url: str, tmp_path: Path
) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, json, sys
        sys.path.insert(0, {str(ROOT)!r})
        from agent.core import Services
        from agent.settings import Settings

        async def main() -> None:
            settings = Settings(_env_file=None, database_url={database_url!r},
                                market_provider="none", load_data_on_start=False)
            services = Services.build(settings)
            chat = await services.start_chat()
            result = await chat.reply("t-restart", sys.argv[1], surface="cli")
            print(json.dumps([t.args for t in result.tools_used]))
            await services.aclose()

        asyncio.run(main())
        """
    )
    path = tmp_path / "turn.py"
    path.write_text(script)

    def turn(text: str) -> list[dict[str, object]]:
        out = subprocess.run(
            [sys.executable, str(path), text],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])

    assert turn("technical view on solana")[0]["symbol"] == "SOL-USD"
    follow_up = turn("what about the RSI?")  # a different process, same thread id
    assert follow_up[0]["symbol"] == "SOL-USD"
    assert follow_up[0]["indicators"] == ["rsi"]
