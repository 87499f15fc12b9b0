"""A fake Yahoo Finance server on 127.0.0.1, so tests run yfinance's real request/parse code offline.

`FakeYahoo` serves the endpoints yfinance 1.7 calls for price history (cookie from fc.yahoo.com,
`/v1/test/getcrumb`, the consent page, `/v8/finance/chart/{symbol}`) from seeded synthetic daily
and hourly series, and can be told to fail, rate-limit or hang. `FakeYahooSession` is a curl_cffi
session that sends every `https://*.yahoo.com` request to the fake server instead, and refuses
any other non-local host, so nothing leaves the machine.

    with FakeYahoo() as server:
        provider = YFinanceProvider(session=server.session(), sleep=lambda s: None)
        bars = provider.fetch("BTC-USD", "1d")
        assert bars["close"].tolist() == server.bars("BTC-USD", "1d")["close"].tolist()
"""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

import numpy as np
import pandas as pd
from curl_cffi import requests as curl_requests

from tests.fakes.http import FakeHTTPServer, QuietHandler, RecordingHTTPServer

CHART_PREFIX = "/v8/finance/chart/"
"""Path of Yahoo's price-history endpoint; failures and hangs target it by default."""

CHART_REQUESTS_PER_FAILED_ATTEMPT = 2
"""yfinance 1.7 re-sends a chart request once (switching cookie strategy) after an HTTP >= 400,
so one failed `history()` call consumes two chart requests."""

ORIGINAL_HOST_HEADER = "X-Fake-Yahoo-Host"
"""Header through which `FakeYahooSession` tells the server which Yahoo host was asked for."""

DEFAULT_SYMBOLS: dict[str, float] = {"BTC-USD": 42_000.0, "ETH-USD": 2_400.0}
"""Symbols served by default, with the price their synthetic series starts from."""

CRUMB = "fAkEcRuMb.42"
NOT_FOUND_DESCRIPTION = "No data found, symbol may be delisted"
HOURLY_LIMIT_DAYS = 730

_VALID_RANGES = ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"]
_RANGE_DAYS = {
    "1d": 1,
    "5d": 5,
    "1mo": 31,
    "3mo": 92,
    "6mo": 183,
    "1y": 366,
    "2y": 731,
    "5y": 1827,
    "10y": 3653,
}
_INTERVALS = {"1d": "1d", "1h": "1h", "60m": "1h"}
_DOWN_PAGE = (
    "<html><head><title>Yahoo</title></head><body>"
    "<h1>Will be right back...</h1><p>Thank you for your patience.</p></body></html>"
)
_CONSENT_PAGE = "<html><body><p>No consent needed in this region.</p></body></html>"
_PRICE_COLUMNS = ["open", "high", "low", "close"]


@dataclass
class RecordedRequest:
    """One request the fake server received: which Yahoo host was meant, path, query and the
    status it was answered with (None while it is still being held or if the client left)."""

    method: str
    host: str
    path: str
    query: dict[str, str]
    status: int | None = None


@dataclass
class _Trouble:
    """A pending failure rule: answer `status` to requests under `path_prefix`."""

    status: int
    path_prefix: str
    remaining: int | None  # None: forever


def synthetic_bars(
    symbol: str, interval: str, periods: int, last: datetime, first_price: float, seed: int
) -> pd.DataFrame:
    """A reproducible random-walk OHLCV series ending at `last` (UTC), shaped like Yahoo's bars."""
    daily = interval == "1d"
    rng = np.random.default_rng([seed, zlib.crc32(symbol.encode()), 0 if daily else 1])
    sigma = 0.03 if daily else 0.006
    close = first_price * np.exp(np.cumsum(rng.normal(0.0004, sigma, periods)))
    open_ = np.concatenate([[first_price], close[:-1]])
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, sigma / 2, periods)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, sigma / 2, periods)))
    volume = (
        rng.integers(10**9, 5 * 10**10, periods) if daily else rng.integers(10**7, 10**9, periods)
    )
    step = pd.Timedelta(days=1) if daily else pd.Timedelta(hours=1)
    index = pd.date_range(end=pd.Timestamp(last), periods=periods, freq=step, name="ts")
    return pd.DataFrame(
        {
            "open": open_.round(2),
            "high": high.round(2),
            "low": low.round(2),
            "close": close.round(2),
            "volume": volume.astype(float),
        },
        index=index,
    )


class FakeYahoo(RecordingHTTPServer[RecordedRequest]):
    """A threaded HTTP server on 127.0.0.1 that answers like Yahoo Finance for a few symbols.

    Series end at the current day (daily, 00:00 UTC) and the current hour (hourly), like a
    live feed whose last bar is still forming. Everything it receives is kept in `requests`.
    """

    def __init__(
        self,
        symbols: Mapping[str, float] | None = None,
        *,
        seed: int = 7,
        daily_bars: int = 400,
        hourly_bars: int = 24 * 40,
        now: datetime | None = None,
    ) -> None:
        super().__init__(_Handler, _Server, name="fake-yahoo")
        self.now = (now or datetime.now(UTC)).astimezone(UTC)
        today = self.now.replace(hour=0, minute=0, second=0, microsecond=0)
        this_hour = self.now.replace(minute=0, second=0, microsecond=0)
        self._series: dict[tuple[str, str], pd.DataFrame] = {}
        for symbol, first_price in (symbols or DEFAULT_SYMBOLS).items():
            self._series[(symbol, "1d")] = synthetic_bars(
                symbol, "1d", daily_bars, today, first_price, seed
            )
            self._series[(symbol, "1h")] = synthetic_bars(
                symbol, "1h", hourly_bars, this_hour, first_price, seed
            )
        self._troubles: list[_Trouble] = []
        self._hang: tuple[float, str] | None = None
        self._release = threading.Event()

    def _stopping(self) -> None:
        """Release hung requests."""
        self._release.set()

    def session(self) -> FakeYahooSession:
        """A new curl_cffi session whose Yahoo requests land on this server."""
        return FakeYahooSession(self.base_url)

    # ----- data -----

    def bars(self, symbol: str, interval: str) -> pd.DataFrame:
        """The full series served for `symbol` ("1d" or "1h"), as the provider should return it."""
        return self._series[(symbol, _INTERVALS[interval])].copy()

    def blank_prices(self, symbol: str, interval: str, ts: pd.Timestamp) -> None:
        """Make Yahoo answer null prices (volume kept) for one bar, as it sometimes does."""
        frame = self._series[(symbol, _INTERVALS[interval])]
        frame.loc[ts, _PRICE_COLUMNS] = np.nan

    # ----- trouble -----

    def fail_next(self, n: int, status: int = 500, path_prefix: str = CHART_PREFIX) -> None:
        """Answer the next `n` requests under `path_prefix` with `status` (500, 429...)."""
        with self._lock:
            self._troubles.append(_Trouble(status, path_prefix, n))

    def fail_attempts(self, n: int, status: int = 500) -> None:
        """Make the next `n` yfinance history calls fail with `status` (see the constant)."""
        self.fail_next(n * CHART_REQUESTS_PER_FAILED_ATTEMPT, status)

    def fail_always(self, status: int = 500, path_prefix: str = CHART_PREFIX) -> None:
        """Answer every request under `path_prefix` with `status` until `heal()`."""
        with self._lock:
            self._troubles.append(_Trouble(status, path_prefix, None))

    def hang(self, seconds: float = 30.0, path_prefix: str = CHART_PREFIX) -> None:
        """Hold requests under `path_prefix` for `seconds` before answering (or until `heal()`)."""
        with self._lock:
            self._hang = (seconds, path_prefix)

    def heal(self) -> None:
        """Forget every failure and hang rule and release requests being held."""
        with self._lock:
            self._troubles.clear()
            self._hang = None
            self._release.set()
            self._release = threading.Event()

    # ----- recorded traffic -----

    def history_requests(self, symbol: str | None = None) -> list[RecordedRequest]:
        """Chart requests asking for a time range (`period1`), i.e. price-history fetches."""
        return [
            r
            for r in self.requests
            if r.path.startswith(CHART_PREFIX)
            and "period1" in r.query
            and (symbol is None or r.path == CHART_PREFIX + symbol)
        ]

    def clear_requests(self) -> None:
        """Forget the recorded traffic."""
        with self._lock:
            self._requests.clear()

    # ----- used by the handler -----

    def _hold_for(self, path: str) -> tuple[float, threading.Event] | None:
        with self._lock:
            if self._hang is not None and path.startswith(self._hang[1]):
                return self._hang[0], self._release
            return None

    def _take_failure(self, path: str) -> int | None:
        with self._lock:
            for trouble in self._troubles:
                if not path.startswith(trouble.path_prefix):
                    continue
                if trouble.remaining is None:
                    return trouble.status
                if trouble.remaining > 0:
                    trouble.remaining -= 1
                    return trouble.status
            return None

    def _chart(self, symbol: str, query: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """Status and JSON body of `/v8/finance/chart/{symbol}` for `query`."""
        interval = _INTERVALS.get(query.get("interval", "1d"))
        if (symbol, "1d") not in self._series:
            return 404, _chart_error("Not Found", NOT_FOUND_DESCRIPTION)
        if interval is None:
            return 400, _chart_error(
                "Bad Request",
                f"Invalid input - interval={query.get('interval')} is not supported. "
                "Valid intervals: [1d, 1h]",
            )
        now = int(self.now.timestamp()) + 1
        if "period1" in query:
            start = int(query["period1"])
            end = int(query.get("period2", now))
        else:
            start = _range_start(query.get("range", "1mo"), self.now)
            end = now
        if interval == "1h" and start < int(self.now.timestamp()) - HOURLY_LIMIT_DAYS * 86_400:
            return 422, _chart_error(
                "Unprocessable Entity",
                f"1h data not available for startTime={start} and endTime={end}. "
                f"The requested range must be within the last {HOURLY_LIMIT_DAYS} days.",
            )
        with self._lock:
            full = self._series[(symbol, interval)].copy()
        epochs = pd.DatetimeIndex(full.index).as_unit("s").asi8
        part = full[(epochs >= start) & (epochs < end)]
        return 200, {
            "chart": {"result": [_chart_result(symbol, interval, full, part, query)], "error": None}
        }


def _range_start(range_: str, now: datetime) -> int:
    """Epoch seconds where a `range=` query starts."""
    if range_ == "max":
        return 0
    if range_ == "ytd":
        return int(datetime(now.year, 1, 1, tzinfo=UTC).timestamp())
    return int((now - timedelta(days=_RANGE_DAYS.get(range_, 31))).timestamp())


def _chart_error(code: str, description: str) -> dict[str, Any]:
    return {"chart": {"result": None, "error": {"code": code, "description": description}}}


def _json_list(values: pd.Series) -> list[float | None]:
    """Floats as JSON wants them: NaN becomes null, like Yahoo's missing quotes."""
    return [None if pd.isna(v) else float(v) for v in values]


def _day_period(day_start: int) -> dict[str, Any]:
    return {"timezone": "UTC", "start": day_start, "end": day_start + 86_400, "gmtoffset": 0}


def _chart_result(
    symbol: str, interval: str, full: pd.DataFrame, part: pd.DataFrame, query: Mapping[str, str]
) -> dict[str, Any]:
    """One `chart.result[0]` object with Yahoo's meta, timestamps and indicators."""
    last = full.iloc[-1]
    last_day = int(full.index[-1].normalize().timestamp())
    first_trade = int(full.index[0].timestamp())
    year = full.loc[full.index >= full.index[-1] - pd.Timedelta(days=365)]
    base = symbol.split("-")[0]
    meta: dict[str, Any] = {
        "currency": "USD",
        "symbol": symbol,
        "exchangeName": "CCC",
        "fullExchangeName": "CCC",
        "instrumentType": "CRYPTOCURRENCY",
        "firstTradeDate": first_trade,
        "regularMarketTime": int(full.index[-1].timestamp()),
        "hasPrePostMarketData": False,
        "gmtoffset": 0,
        "timezone": "UTC",
        "exchangeTimezoneName": "UTC",
        "regularMarketPrice": float(last["close"]),
        "fiftyTwoWeekHigh": float(year["high"].max()),
        "fiftyTwoWeekLow": float(year["low"].min()),
        "regularMarketDayHigh": float(last["high"]),
        "regularMarketDayLow": float(last["low"]),
        "regularMarketVolume": int(last["volume"]),
        "longName": f"{base} USD",
        "shortName": f"{base} USD",
        "chartPreviousClose": float(full["close"].iloc[-2]),
        "priceHint": 2,
        "currentTradingPeriod": {k: _day_period(last_day) for k in ("pre", "regular", "post")},
        "dataGranularity": interval,
        "range": query.get("range", ""),
        "validRanges": list(_VALID_RANGES),
    }
    result: dict[str, Any] = {"meta": meta}
    if interval != "1d":
        days = sorted({int(ts.normalize().timestamp()) for ts in part.index})
        meta["tradingPeriods"] = [[_day_period(day)] for day in days]
    if part.empty:
        result["indicators"] = {"quote": [{}]}
        return result
    result["timestamp"] = [int(ts.timestamp()) for ts in part.index]
    quote = {col: _json_list(part[col]) for col in _PRICE_COLUMNS}
    quote["volume"] = [None if pd.isna(v) else int(v) for v in part["volume"]]
    result["indicators"] = {"quote": [quote]}
    if interval == "1d":
        result["indicators"]["adjclose"] = [{"adjclose": _json_list(part["close"])}]
    return result


class _Server(FakeHTTPServer):
    """The HTTP server, holding a reference to the `FakeYahoo` it serves for."""

    block_on_close = True  # `stop()` releases held requests, then waits for their answers
    fake: FakeYahoo


class _Handler(QuietHandler):
    """Routes one request the way Yahoo would answer it."""

    server: _Server
    _recorded: RecordedRequest
    protocol_version = "HTTP/1.0"
    server_version = "ATS"
    sys_version = ""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self.read_body()
        self._serve("POST")

    def _serve(self, method: str) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        host = (self.headers.get(ORIGINAL_HOST_HEADER) or "").lower()
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self._recorded = RecordedRequest(method, host, parts.path, query)
        fake._record(self._recorded)

        hold = fake._hold_for(parts.path)
        if hold is not None:
            seconds, released = hold
            released.wait(seconds)
        status = fake._take_failure(parts.path)
        if status is not None:
            self._fail(status)
        elif host == "fc.yahoo.com":
            # Yahoo answers 404 but sets the A3 cookie yfinance is after.
            self._send(
                404,
                "text/html",
                b"<html><body>Not Found</body></html>",
                [
                    (
                        "Set-Cookie",
                        "A3=d=AQABBFakeCookie&S=AQAAAFake; Path=/; Max-Age=31557600; HttpOnly",
                    )
                ],
            )
        elif parts.path == "/v1/test/getcrumb":
            self._send(200, "text/plain;charset=utf-8", CRUMB.encode())
        elif "consent" in host or "consent" in parts.path.lower():
            self._send(200, "text/html", _CONSENT_PAGE.encode())
        elif parts.path.startswith(CHART_PREFIX):
            symbol = unquote(parts.path[len(CHART_PREFIX) :]).upper()
            code, body = fake._chart(symbol, query)
            self._send_json(code, body)
        elif parts.path.startswith("/v10/finance/quoteSummary/"):
            self._send_json(
                404,
                {
                    "quoteSummary": {
                        "result": None,
                        "error": {
                            "code": "Not Found",
                            "description": "Quote not found for symbol",
                        },
                    }
                },
            )
        else:
            self._send_json(
                404,
                {
                    "finance": {
                        "result": None,
                        "error": {"code": "Not Found", "description": "HTTP 404 Not Found"},
                    }
                },
            )

    def _fail(self, status: int) -> None:
        if status == 429:
            self._send(429, "text/plain", b"Too Many Requests")
        else:
            self._send(status, "text/html;charset=utf-8", _DOWN_PAGE.encode())

    def _send_json(self, status: int, body: dict[str, Any]) -> None:
        self._send(
            status, "application/json;charset=utf-8", json.dumps(body, allow_nan=False).encode()
        )

    def _send(
        self,
        status: int,
        content_type: str,
        body: bytes,
        extra: list[tuple[str, str]] | None = None,
    ) -> None:
        """Answer, recording the status (a client that has gone only closes the connection)."""
        self._recorded.status = status
        self.send_body(status, content_type, body, extra or [])


class FakeYahooSession(curl_requests.Session):  # type: ignore[type-arg]
    """A curl_cffi session that sends `https://*.yahoo.com/...` to the fake server (same path
    and query) and refuses every other non-local host, so a test can never reach the internet."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        kwargs.setdefault("impersonate", "chrome")
        kwargs.setdefault("trust_env", False)  # ignore *_proxy variables
        super().__init__(**kwargs)
        self.fake_netloc = urlsplit(base_url).netloc

    def request(self, method: Any, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Rewrite Yahoo URLs to the fake server; anything else non-local is an error."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if host == "yahoo.com" or host.endswith(".yahoo.com"):
            url = urlunsplit(("http", self.fake_netloc, parts.path or "/", parts.query, ""))
            headers = dict(kwargs.pop("headers", None) or {})
            headers[ORIGINAL_HOST_HEADER] = host
            kwargs["headers"] = headers
        elif host not in ("127.0.0.1", "localhost"):
            raise RuntimeError(f"FakeYahooSession refuses to contact {host!r} (tests stay offline)")
        return super().request(method, url, *args, **kwargs)
