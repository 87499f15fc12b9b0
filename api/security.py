"""Admin API key check: 401 without `X-API-Key`, 403 with a wrong one (constant-time compare);
and the caller's principal, which owns the conversations it starts. Their dependency aliases
(`AdminDep`, `PrincipalDep`) are in `api.deps`."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Header, HTTPException, Request

from agent.core import Services


async def require_admin(
    request: Request,
    x_api_key: Annotated[str | None, Header(max_length=256)] = None,
) -> None:
    """Admit only callers presenting the configured admin key (async: no thread hop)."""
    check_admin_key(request.app.state.services, x_api_key)


def check_admin_key(services: Services, x_api_key: str | None) -> None:
    """401 without a key, 403 with a wrong one or when none is configured."""
    configured = services.settings.admin_api_key
    if not x_api_key:
        raise HTTPException(401, "This route needs the admin API key in the X-API-Key header.")
    if configured is None or not hmac.compare_digest(
        x_api_key.encode(), configured.get_secret_value().encode()
    ):
        raise HTTPException(403, "The API key is not valid for admin routes.")


async def api_principal(x_api_key: Annotated[str | None, Header(max_length=256)] = None) -> str:
    """Who owns the caller's threads: the SHA-256 of its `X-API-Key`, else the shared anonymous."""
    if not x_api_key:
        return "anonymous"
    return "key:" + hashlib.sha256(x_api_key.encode()).hexdigest()
