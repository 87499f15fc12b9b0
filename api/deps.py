"""FastAPI dependencies as `Annotated` aliases: routes ask for the service they need, and the
request field types the routers share (`IsoDate`, `IsoDateOrTime` from `agent.as_of`, shared
with the agent's tool arguments)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from pydantic import AfterValidator

from agent.as_of import IsoDate, IsoDateOrTime
from agent.core import Services
from agent.services.health import HealthService
from agent.services.market import MarketService
from agent.services.technical import TechnicalService


def get_services(request: Request) -> Services:
    """The services built once by the lifespan."""
    services: Services = request.app.state.services
    return services


# The dependencies are `async def`: FastAPI runs a plain `def` dependency in the thread pool, a
# thread hop (and a worker thread's wake-up) on every request for an attribute lookup.
async def services_dependency(request: Request) -> Services:
    return get_services(request)


async def get_market(request: Request) -> MarketService:
    return get_services(request).market


async def get_technical(request: Request) -> TechnicalService:
    return get_services(request).technical


async def get_health(request: Request) -> HealthService:
    return get_services(request).health


ServicesDep = Annotated[Services, Depends(services_dependency)]
MarketDep = Annotated[MarketService, Depends(get_market)]
TechnicalDep = Annotated[TechnicalService, Depends(get_technical)]
HealthDep = Annotated[HealthService, Depends(get_health)]


def _no_nul(value: str) -> str:
    """Refuse NUL characters in text that reaches Postgres, which cannot store them (a 500 before)."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


NoNulText = Annotated[str, AfterValidator(_no_nul)]

__all__ = ["IsoDate", "IsoDateOrTime", "NoNulText"]
