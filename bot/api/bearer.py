"""The machines' door: the API token as a Bearer header, one check for every router that takes it."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Header, HTTPException


def bearer_guard(api_token: str) -> Callable[..., None]:
    """A FastAPI dependency refusing (401) a request without `Authorization: Bearer <api_token>`."""

    def authorised(authorization: Annotated[str | None, Header()] = None) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), api_token.encode()):
            raise HTTPException(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})

    return authorised
