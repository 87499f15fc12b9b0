"""The one `as_of` rule on every route that takes it, as a property over random instants and
offsets: a date means the end of that UTC day's daily bar; a date-time is an instant, converted
to UTC; no bar that closes after it and no item published at or after it is seen.

Each route gets hundreds of generated `as_of` values (midnights, hour boundaries and arbitrary
minutes, offsets from -12:00 to +14:00, bare dates) against bars and headlines stored in Postgres.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.core import Services
from agent.offline import formatting as fmt
from agent.services.knowledge import KnowledgeService
from agent.settings import Settings
from api.main import create_app
from knowledge.market.csv_files import import_file
from knowledge.news import NewsDraft, NewsStore
from tests.factories import synthetic_bars, write_csv
from tests.unit.knowledge_store.fakes import HashingEmbedder
from tools.sentiment.lexicon import LexiconAnalyzer

pytestmark = pytest.mark.integration
EXAMPLES = 500  # per property; six properties below, 3,000 generated cases in all
FIRST = datetime(2025, 5, 26, tzinfo=UTC)
LAST = datetime(2025, 6, 12, tzinfo=UTC)
DAILY = synthetic_bars(200, seed=21, start="2025-01-01")  # to 2025-07-19
HOURLY = synthetic_bars(24 * 20, seed=22, start="2025-05-25", freq="h")  # to 2025-06-13 23:00
STEP = {"1d": timedelta(days=1), "1h": timedelta(hours=1)}
WORDS = ("rallies to a record", "slumps as miners sell", "ETF inflows surge", "exchange hacked")


def _published() -> list[datetime]:
    """Headlines every 5 h 20 min, so they fall on midnights, hours and odd minutes alike."""
    moments, moment = [], FIRST
    while moment < LAST:
        moments.append(moment)
        moment += timedelta(hours=5, minutes=20)
    return [*moments, datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 6, 5, 23, 59, tzinfo=UTC)]


PUBLISHED = sorted(set(_published()))


@pytest.fixture
def api(make_settings: Callable[..., Settings], tmp_path: Path) -> Iterator[TestClient]:
    services = Services.build(make_settings(rate_limit_data_per_minute=100_000))
    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", DAILY))
    import_file(services.prices, write_csv(tmp_path, "BTC-USD_1h.csv", HOURLY))
    _store_news(services)
    with TestClient(create_app(services.settings, services)) as client:
        yield client
    services.db.close()


def _store_news(services: Services) -> None:
    store = NewsStore(services.db)
    store.insert(
        [
            NewsDraft(
                f"k{i}",
                f"https://n.test/{i}",
                None,
                f"Bitcoin {WORDS[i % len(WORDS)]} ({i})",
                "",
                f"Bitcoin {WORDS[i % len(WORDS)]}",
                "coindesk.com",
                "https://n.test/rss",
                moment,
                ("BTC-USD",),
            )
            for i, moment in enumerate(PUBLISHED)
        ]
    )
    rows = list(store.unscored())
    lexicon = LexiconAnalyzer()
    scores = lexicon.analyze([text for _, text in rows])
    store.save_scores(
        [(i, s.label, s.score, s.confidence) for (i, _), s in zip(rows, scores, strict=True)],
        lexicon.name,
    )


def _offsets() -> st.SearchStrategy[timezone]:
    return st.integers(-12 * 4, 14 * 4).map(lambda q: timezone(timedelta(minutes=15 * q)))


@st.composite
def as_of_values(draw: st.DrawFn) -> tuple[str, datetime]:
    """An `as_of` as a client sends it, and the UTC instant the rule says it stands for."""
    if draw(st.integers(0, 4)) == 0:
        day = draw(st.dates(FIRST.date(), LAST.date()))
        return day.isoformat(), datetime.combine(day + timedelta(days=1), time(0), UTC)
    day = draw(st.dates(FIRST.date(), LAST.date()))
    hour = draw(st.integers(0, 23))
    minute = draw(st.sampled_from([0, 0, 0, 20, draw(st.integers(0, 59))]))
    local = datetime.combine(day, time(hour, minute), draw(_offsets()))
    text = local.isoformat()
    if local.utcoffset() == timedelta(0) and draw(st.booleans()):
        text = text.replace("+00:00", "Z")
    return text, local.astimezone(UTC)


def _closed(bars: Any, step: timedelta, instant: datetime) -> list[datetime]:
    return [ts.to_pydatetime() for ts in bars.index if ts.to_pydatetime() + step <= instant]


def _parse(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("interval", ["1d", "1h"])
def test_technical_sees_only_bars_closed_by_the_instant(api: TestClient, interval: str) -> None:
    bars = DAILY if interval == "1d" else HOURLY

    @PROPERTY
    @given(as_of_values())
    def check(value: tuple[str, datetime]) -> None:
        text, instant = value
        res = api.post(
            "/technical",
            json={"symbol": "btc", "interval": interval, "as_of": text, "indicators": ["rsi"]},
        )
        closed = _closed(bars, STEP[interval], instant)
        if not closed:
            assert res.status_code in (404, 422), (text, res.text)
            return
        assert res.status_code == 200, (text, res.text)
        body = res.json()
        assert _parse(body["as_of"]) == closed[-1], (text, instant, body["as_of"])
        assert body["bars_used"] == len(closed)

    check()


@pytest.mark.timeout(600)
def test_sentiment_sees_only_items_published_before_the_instant(api: TestClient) -> None:
    @PROPERTY
    @given(as_of_values(), st.sampled_from([0.25, 1, 2.5, 7]))
    def check(value: tuple[str, datetime], window_days: float) -> None:
        text, instant = value
        res = api.post(
            "/sentiment", json={"symbol": "btc", "as_of": text, "window_days": window_days}
        )
        assert res.status_code == 200, (text, res.text)
        body = res.json()
        start = instant - timedelta(days=window_days)
        expected = [p for p in PUBLISHED if start <= p < instant]
        assert _parse(body["as_of"]) == instant, (text, body["as_of"])
        assert body["overall"]["n"] == len(expected), (text, instant)
        seen = [_parse(i["published_at"]) for i in body["items"]]
        assert all(start <= p < instant for p in seen), (text, instant, seen)

    check()


@pytest.mark.timeout(600)
def test_sentiment_since_starts_at_the_instant_or_the_day(api: TestClient) -> None:
    @PROPERTY
    @given(as_of_values(), as_of_values())
    def check(first: tuple[str, datetime], second: tuple[str, datetime]) -> None:
        (since_text, _), (as_of_text, instant) = sorted([first, second], key=lambda v: v[1])
        since = _parse(since_text) if len(since_text) > 10 else None
        start = (
            since.astimezone(UTC)
            if since
            else datetime.combine(date.fromisoformat(since_text), time(0), UTC)
        )
        res = api.post(
            "/sentiment", json={"symbol": "btc", "since": since_text, "as_of": as_of_text}
        )
        if start >= instant:
            assert res.status_code == 422, (since_text, as_of_text, res.text)
            return
        assert res.status_code == 200, (since_text, as_of_text, res.text)
        expected = [p for p in PUBLISHED if start <= p < instant]
        assert res.json()["overall"]["n"] == len(expected), (since_text, as_of_text)

    check()


@pytest.mark.timeout(600)
def test_sentiment_trend_ends_at_the_instant(api: TestClient) -> None:
    @PROPERTY
    @given(as_of_values(), st.integers(1, 10))
    def check(value: tuple[str, datetime], days: int) -> None:
        text, instant = value
        res = api.get("/sentiment-trend/btc", params={"as_of": text, "days": days})
        assert res.status_code == 200, (text, res.text)
        body = res.json()
        assert _parse(body["as_of"]) == instant, (text, body["as_of"])
        last_day = (instant - timedelta(microseconds=1)).date()
        first = datetime.combine(last_day - timedelta(days=days - 1), time(0), UTC)
        expected = [p for p in PUBLISHED if first <= p < instant]
        assert [row["date"] for row in body["days"]][-1] == last_day.isoformat()
        assert body["n"] == len(expected), (text, instant, days)

    check()


def test_a_midnight_date_time_is_an_instant_not_a_whole_day(api: TestClient) -> None:
    """The independent test's cases: 23 later hourly bars were used before."""
    cases = {
        "2025-06-01T00:00:00Z": "2025-05-31T23:00:00+00:00",
        "2025-06-01T00:00:00+14:00": "2025-05-31T09:00:00+00:00",
        "2025-06-01": "2025-06-01T23:00:00+00:00",
    }
    for as_of, last_bar in cases.items():
        body = api.post(
            "/technical", json={"symbol": "btc", "interval": "1h", "as_of": as_of}
        ).json()
        assert _parse(body["as_of"]) == _parse(last_bar), (as_of, body["as_of"])
    trend = api.get("/sentiment-trend/btc", params={"as_of": "2025-06-01T00:00:00Z"}).json()
    assert _parse(trend["as_of"]) == datetime(2025, 6, 1, tzinfo=UTC)
    assert trend["days"][-1]["date"] == "2025-05-31"


@pytest.mark.parametrize("extreme", ["9999-12-31", "0001-01-01", "9999-12-31T23:59:59-05:00"])
def test_extreme_dates_are_422_on_every_date_field(api: TestClient, extreme: str) -> None:
    requests = [
        ("get", "/sentiment-trend/btc", {"params": {"as_of": extreme}}),
        ("post", "/sentiment", {"json": {"symbol": "btc", "as_of": extreme}}),
        ("post", "/sentiment", {"json": {"symbol": "btc", "since": extreme}}),
        ("post", "/technical", {"json": {"symbol": "btc", "as_of": extreme}}),
        ("get", "/knowledge/search", {"params": {"q": "halving", "as_of": extreme}}),
    ]
    if len(extreme) == 10:
        requests.append(("get", "/historical-data/btc", {"params": {"start": extreme}}))
        requests.append(("get", "/historical-data/btc", {"params": {"end": extreme}}))
    for method, path, kwargs in requests:
        res = getattr(api, method)(path, **kwargs)
        assert res.status_code == 422, (path, kwargs, res.status_code, res.text)
        assert res.json()["error"]["code"], res.text
        assert "x-request-id" in res.headers
    assert api.get("/health").status_code in (200, 503)  # the connection is still usable


@pytest.mark.parametrize("question", ["What was BTC on 9999-12-31?", "RSI of BTC on 0001-01-01"])
def test_chat_says_an_extreme_date_is_out_of_range(api: TestClient, question: str) -> None:
    res = api.post("/chat", json={"message": question})
    assert res.status_code == 200, res.text
    answer = res.json()["answer"]
    assert "1970-01-01" in answer and "2100-12-31" in answer, answer


def test_chat_answers_a_dated_price_question_with_that_days_close(api: TestClient) -> None:
    answer = api.post("/chat", json={"message": "What was BTC on 2025-03-01?"}).json()["answer"]
    close = fmt.price(float(DAILY.loc["2025-03-01", "close"]))
    assert "2025-03-01" in answer and close in answer, (close, answer)


@pytest.mark.timeout(600)
def test_knowledge_search_sees_only_documents_published_before_the_instant(
    services: Services,
) -> None:
    """The knowledge store's `as_of` (routes and chat go through `KnowledgeService.search`)."""
    knowledge = KnowledgeService(services.db, HashingEmbedder())
    news = [
        {"title": f"Bitcoin note {i}", "text": f"Bitcoin network note number {i}.",
         "url": f"https://news.test/{i}", "published_at": moment, "symbols": ["BTC"]}
        for i, moment in enumerate(PUBLISHED[::2])
    ]  # fmt: skip
    knowledge.index_news(news)
    dated = sorted(item["published_at"] for item in news)

    @PROPERTY
    @given(as_of_values())
    def check(value: tuple[str, datetime]) -> None:
        text, instant = value
        as_of = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        hits = knowledge.search("Bitcoin note", k=50, kind="news", as_of=as_of)["hits"]
        published = sorted(_parse(h["published_at"]) for h in hits)
        assert published == [p for p in dated if p < instant], (text, instant)

    check()


async def test_the_agents_tools_read_a_midnight_date_time_as_an_instant(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """The tools a language model calls take the same field type as the routes: a midnight
    date-time with an offset is an instant, never that whole day (24 h of look-ahead)."""
    services = Services.build(make_settings())
    try:
        import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", DAILY))
        tools = {tool.name: tool for tool in services.tools()}
        for as_of, last in [
            ("2025-06-01T00:00:00Z", "2025-05-31"),
            ("2025-06-01T00:00:00+02:00", "2025-05-30"),
            ("2025-06-01", "2025-06-01"),
        ]:
            price = await tools["get_price"].ainvoke({"symbol": "BTC", "as_of": as_of})
            assert price["as_of"] == last, (as_of, price["as_of"])
            technical = await tools["technical_analysis"].ainvoke(
                {"symbol": "BTC", "as_of": as_of, "indicators": ["rsi"]}
            )
            assert str(technical["as_of"])[:10] == last, (as_of, technical["as_of"])
    finally:
        services.db.close()
