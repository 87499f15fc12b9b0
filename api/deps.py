"""FastAPI dependencies as `Annotated` aliases: routes ask for the service they need, and the
request field types the routers share."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import AfterValidator, BeforeValidator

from agent.as_of import check_date_range, parse_as_of
from agent.health import HealthService
from agent.market import MarketService
from agent.services import Services
from agent.technical import TechnicalService


def get_services(request: Request) -> Services:
    """The services built once by the lifespan."""
    services: Services = request.app.state.services
    return services


def get_market(request: Request) -> MarketService:
    return get_services(request).market


def get_technical(request: Request) -> TechnicalService:
    return get_services(request).technical


def get_health(request: Request) -> HealthService:
    return get_services(request).health


ServicesDep = Annotated[Services, Depends(get_services)]
MarketDep = Annotated[MarketService, Depends(get_market)]
TechnicalDep = Annotated[TechnicalService, Depends(get_technical)]
HealthDep = Annotated[HealthService, Depends(get_health)]


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _iso_only(value: Any) -> Any:
    """Refuse bare numbers for dates: pydantic would read them as Unix timestamps, so
    `as_of=2024` silently meant 1970-01-01T00:33:44 instead of a 422."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number or (isinstance(value, str) and _NUMBER.fullmatch(value.strip())):
        raise ValueError("expected a date as YYYY-MM-DD or an ISO 8601 date-time")
    return value


def _no_nul(value: str) -> str:
    """Refuse NUL characters in text that reaches Postgres, which cannot store them (a 500 before)."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


def _date_or_time(value: Any) -> Any:
    """Parse text by its shape: "YYYY-MM-DD" is a date, anything longer a date-time, so a
    midnight date-time keeps its offset instead of being read as a whole day (look-ahead)."""
    value = _iso_only(value)
    if isinstance(value, str):
        try:
            return parse_as_of(value)
        except ValueError:
            raise ValueError("expected a date as YYYY-MM-DD or an ISO 8601 date-time") from None
    return value


def _in_range(value: date) -> date:
    """Refuse dates no data can have (year 1, 9999, ...) with a 422 before any arithmetic."""
    check_date_range(value)
    return value


NoNulText = Annotated[str, AfterValidator(_no_nul)]
IsoDate = Annotated[date, BeforeValidator(_iso_only), AfterValidator(_in_range)]
IsoDateOrTime = Annotated[
    datetime | date, BeforeValidator(_date_or_time), AfterValidator(_in_range)
]
