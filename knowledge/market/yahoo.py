"""Market bars from Yahoo Finance through the yfinance library.

`YFinanceProvider.fetch` returns clean UTC OHLCV frames and turns every way Yahoo can fail
(network error, 5xx, rate limit, hang, unknown symbol, empty answer) into retries with
exponential backoff and, in the end, one `ProviderError` that names the symbol and the cause.

yfinance keeps process-wide state (one HTTP session, cookie and crumb, memoized responses, a
timezone cache on disk), so calls are serialized, its caches live in a private temporary folder
and its memoized answers are dropped after a failure, so that a retry really asks Yahoo again.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

import pandas as pd

from knowledge.errors import ProviderError

Interval = Literal["1d", "1h"]
COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
HOURLY_HISTORY = timedelta(days=729)
"""Yahoo serves hourly bars for the last ~730 days only; older starts are clamped to this."""

_YF_COLUMNS = ("Open", "High", "Low", "Close", "Volume")
_PRICES = ["open", "high", "low", "close"]
_log = logging.getLogger(__name__)
_yf_lock = threading.Lock()  # yfinance shares one session/crumb per process (YfData singleton)
_yf_prepared = False


class _EmptyAnswer(Exception):
    """Yahoo answered, but without the bars that were asked for."""


class _DemoteToDebug(logging.Handler):
    """Re-log yfinance's records at DEBUG on this module's logger: failures reach the caller
    as `ProviderError`, so yfinance's own warnings would only be noise on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        _log.debug("yfinance: %s", record.getMessage())


class YFinanceProvider:
    """Fetches daily or hourly bars for a Yahoo symbol ("BTC-USD") with retries and timeouts."""

    name = "yfinance"

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff_seconds: float = 1.0,
        session: object | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`timeout` caps every HTTP request (seconds); `retries` extra attempts follow a failure,
        waiting `backoff_seconds * 2**n` through `sleep`. `session` is a curl_cffi session to
        use (its per-request timeout is capped to `timeout`); by default one is created."""
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if retries < 0:
            raise ValueError("retries must be >= 0")
        if backoff_seconds < 0:
            raise ValueError("backoff_seconds must be >= 0")
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff_seconds = float(backoff_seconds)
        self._session: Any = session
        self._sleep = sleep

    def fetch(
        self,
        symbol: str,
        interval: Interval,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame:
        """Bars for `symbol` at `interval` with timestamps in [start, end) (UTC; naive = UTC).

        `start=None` means all the history Yahoo has (hourly: the last 729 days). The frame has
        a unique ascending UTC DatetimeIndex named "ts" and float columns open, high, low,
        close, volume; bars without prices are dropped. Raises `ProviderError` after retries.
        """
        symbol = symbol.strip()
        if not symbol:
            raise ValueError("symbol must not be empty")
        if interval not in get_args(Interval):
            raise ValueError(f"interval must be one of {get_args(Interval)}, not {interval!r}")
        start_ts = _as_utc(start)
        end_ts = _as_utc(end)
        if interval == "1h":
            earliest = pd.Timestamp.now(tz=UTC) - HOURLY_HISTORY
            if start_ts is None or start_ts < earliest:
                start_ts = earliest
        if start_ts is not None and end_ts is not None and end_ts <= start_ts:
            raise ValueError(f"end ({end_ts}) must be after start ({start_ts})")

        attempts = self.retries + 1
        last_error: BaseException | None = None
        for attempt in range(attempts):
            if attempt:
                delay = self.backoff_seconds * 2 ** (attempt - 1)
                _log.info(
                    "yfinance %s %s: attempt %d/%d failed (%s); retrying in %.1f s",
                    symbol,
                    interval,
                    attempt,
                    attempts,
                    _describe(last_error),
                    delay,
                )
                self._sleep(delay)
            try:
                raw = self._history(symbol, interval, start_ts, end_ts)
                return _to_bars(raw, start_ts, end_ts)
            except Exception as exc:
                last_error = exc
                _forget_memoized_responses()
        raise ProviderError(
            f"yfinance could not fetch {interval} bars for {symbol} after {attempts} "
            f"attempt(s): {_describe(last_error)}"
        ) from last_error

    def _history(
        self, symbol: str, interval: Interval, start: pd.Timestamp | None, end: pd.Timestamp | None
    ) -> pd.DataFrame:
        """One `Ticker.history` call with exceptions raised instead of logged."""
        import yfinance as yf

        session = self._ready_session()
        options: dict[str, Any] = {
            "interval": interval,
            "auto_adjust": False,  # crypto has no corporate actions: keep Yahoo's raw prices
            "actions": False,
            # For intraday, prepost=False makes yfinance filter bars by Yahoo's tradingPeriods;
            # crypto trades around the clock, so ask for everything and skip that filter.
            "prepost": interval != "1d",
            "timeout": self.timeout,
        }
        if start is None:
            options["period"] = "max"
        else:
            options["start"] = start.to_pydatetime()
        if end is not None:
            options["end"] = end.to_pydatetime()

        with _yf_lock:
            _prepare_yfinance(yf)
            hide_exceptions = yf.config.debug.hide_exceptions
            yf.config.debug.hide_exceptions = False
            try:
                frame: pd.DataFrame | None = yf.Ticker(symbol, session=session).history(**options)
            finally:
                yf.config.debug.hide_exceptions = hide_exceptions
        if frame is None or frame.empty:
            raise _EmptyAnswer("Yahoo answered no bars")
        return frame

    def _ready_session(self) -> Any:
        """The session to hand to yfinance, created on first use, with timeouts capped."""
        if self._session is None:
            self._session = default_session()
        _cap_timeout(self._session, self.timeout)
        return self._session


def default_session() -> Any:
    """The HTTP session used when none is injected: curl_cffi impersonating a browser, as
    yfinance itself prefers. Tests of code that builds its own provider replace this function."""
    from curl_cffi import requests as curl_requests

    return curl_requests.Session(impersonate="chrome")


def _as_utc(value: datetime | None) -> pd.Timestamp | None:
    """A UTC timestamp for `value`; naive datetimes are taken as UTC."""
    if value is None:
        return None
    ts = pd.Timestamp(value)
    return ts.tz_localize(UTC) if ts.tzinfo is None else ts.tz_convert(UTC)


def _to_bars(
    raw: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> pd.DataFrame:
    """yfinance's frame reshaped to the contract: UTC "ts" index, float OHLCV, no NaN prices."""
    missing = [c for c in _YF_COLUMNS if c not in raw.columns]
    if missing:
        raise _EmptyAnswer(f"Yahoo answer lacks columns {missing}")
    bars = raw.loc[:, list(_YF_COLUMNS)].astype("float64")
    bars.columns = pd.Index(COLUMNS)
    index = pd.DatetimeIndex(raw.index)
    index = index.tz_localize(UTC) if index.tz is None else index.tz_convert(UTC)
    bars.index = index.as_unit("ns").rename("ts")
    bars = bars.dropna(subset=_PRICES)
    bars = bars[~bars.index.duplicated(keep="last")].sort_index()
    if start is not None:
        bars = bars[bars.index >= start]
    if end is not None:
        bars = bars[bars.index < end]
    if bars.empty:
        raise _EmptyAnswer("Yahoo answered no priced bars in the requested range")
    return bars


def _cap_timeout(session: Any, timeout: float) -> None:
    """Make a curl_cffi session give up after `timeout` seconds on every request.

    yfinance passes our timeout to the price request only; its cookie, crumb and timezone
    requests use fixed 10-30 s limits. Session-level curl options are applied after the
    per-request ones, so this bounds them all. Other session types are left as they are.
    """
    options = getattr(session, "curl_options", None)
    if not isinstance(options, dict):
        return
    from curl_cffi import CurlOpt

    millis = max(1, int(timeout * 1000))
    options[CurlOpt.TIMEOUT_MS] = millis
    options[CurlOpt.CONNECTTIMEOUT_MS] = millis


def _prepare_yfinance(yf: Any) -> None:
    """Once per process: private cache folder, quiet logging and warnings for yfinance."""
    global _yf_prepared
    if _yf_prepared:
        return
    folder = tempfile.mkdtemp(prefix="yfinance-cache-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    yf.set_tz_cache_location(folder)
    yf_logger = logging.getLogger("yfinance")
    yf_logger.addHandler(_DemoteToDebug())
    yf_logger.propagate = False
    warnings.filterwarnings("ignore", module=r"^yfinance")
    _yf_prepared = True


def _forget_memoized_responses() -> None:
    """Drop yfinance's in-process response memo, which also keeps failed answers (e.g. a 500
    for the timezone lookup) and would make every retry fail the same way."""
    try:
        from yfinance.data import YfData
    except ImportError:
        return
    clear = getattr(YfData.cache_get, "cache_clear", None)
    if callable(clear):
        clear()


def _describe(error: BaseException | None) -> str:
    """A one-line cause for messages, with a hint when Yahoo does not know the symbol."""
    if error is None:
        return "no attempt made"
    text = f"{type(error).__name__}: {error}"
    try:
        from yfinance.exceptions import YFRateLimitError, YFTickerMissingError
    except ImportError:
        return text
    response = getattr(error, "response", None)
    if isinstance(error, YFTickerMissingError) or getattr(response, "status_code", None) == 404:
        text += " (Yahoo has no data for this symbol: unknown or delisted?)"
    elif isinstance(error, YFRateLimitError):
        text += " (rate limited by Yahoo)"
    elif isinstance(error, ValueError) and "Expecting value" in str(error):
        text += " (Yahoo answered an error page instead of JSON)"
    return text
