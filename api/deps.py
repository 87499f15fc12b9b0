"""FastAPI dependencies, every one as an `Annotated` alias, in this one module: routes ask for
the service they need (or for `ServicesDep` when a route uses several), for the admin check and
for the caller's principal. Also the request field types the routers share (`IsoDate`,
`IsoDateOrTime` from `agent.as_of`, shared with the agent's tool arguments).

The dependencies are `async def`: FastAPI runs a plain `def` dependency in the thread pool, a
thread hop (and a worker thread's wake-up) on every request for an attribute lookup. The three
hottest routes (`/health`, `/historical-data`, `/technical`) read their service from the app
state themselves, which skips dependency solving on every request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from pydantic import AfterValidator

from agent.as_of import IsoDate, IsoDateOrTime
from agent.core import Services
from agent.graph.chat import ChatService
from agent.services.forecast import ForecastService
from agent.services.knowledge import KnowledgeService
from agent.services.sentiment import SentimentService, service_for
from api.security import api_principal, require_admin


def get_services(request: Request) -> Services:
    """The services built once by the lifespan."""
    services: Services = request.app.state.services
    return services


async def services_dependency(request: Request) -> Services:
    return get_services(request)


async def get_forecasts(request: Request) -> ForecastService:
    return get_services(request).forecasts


async def get_knowledge(request: Request) -> KnowledgeService:
    return get_services(request).knowledge


async def get_sentiment(request: Request) -> SentimentService:
    return service_for(get_services(request))


async def get_chat(request: Request) -> ChatService:
    """The chat service, its graph and memory started on first use."""
    return await get_services(request).start_chat()


ServicesDep = Annotated[Services, Depends(services_dependency)]
ForecastsDep = Annotated[ForecastService, Depends(get_forecasts)]
KnowledgeDep = Annotated[KnowledgeService, Depends(get_knowledge)]
SentimentDep = Annotated[SentimentService, Depends(get_sentiment)]
ChatDep = Annotated[ChatService, Depends(get_chat)]
AdminDep = Annotated[None, Depends(require_admin)]
PrincipalDep = Annotated[str, Depends(api_principal)]


def _no_nul(value: str) -> str:
    """Refuse NUL characters in text that reaches Postgres, which cannot store them (a 500 before)."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


NoNulText = Annotated[str, AfterValidator(_no_nul)]

__all__ = [
    "AdminDep",
    "ChatDep",
    "ForecastsDep",
    "IsoDate",
    "IsoDateOrTime",
    "KnowledgeDep",
    "NoNulText",
    "PrincipalDep",
    "SentimentDep",
    "ServicesDep",
]
