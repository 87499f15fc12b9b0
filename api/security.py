"""Admin API key check: 401 without `X-API-Key`, 403 with a wrong one (constant-time compare)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, HTTPException

from api.deps import ServicesDep


def require_admin(
    services: ServicesDep,
    x_api_key: Annotated[str | None, Header(max_length=256)] = None,
) -> None:
    """Admit only callers presenting the configured admin key."""
    configured = services.settings.admin_api_key
    if not x_api_key:
        raise HTTPException(401, "This route needs the admin API key in the X-API-Key header.")
    if configured is None or not hmac.compare_digest(
        x_api_key.encode(), configured.get_secret_value().encode()
    ):
        raise HTTPException(403, "The API key is not valid for admin routes.")


AdminDep = Annotated[None, Depends(require_admin)]
