"""Reading a small JSON body safely: counted while it streams in (413 past the
limit, before parsing), no lone surrogates (they cannot be stored), and
validation errors that name the field but never echo the input."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from pydantic import BaseModel, ValidationError

from bot.api.errors import short_errors

M = TypeVar("M", bound=BaseModel)
SESSION = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def fail(status: int, code: str) -> HTTPException:
    """The page shows `code` in the buyer's language (webchat.toml [errors])."""
    return HTTPException(status, code)


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise fail(413, "too_large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise fail(413, "too_large")
    return bytes(body)


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


async def read_json(request: Request, model: type[M], limit: int) -> M:
    raw = await read_limited(request, limit)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise fail(400, "bad_request") from None
    if _has_lone_surrogate(data):
        raise fail(422, "bad_text")
    try:
        return model.model_validate(data)
    except ValidationError as exc:  # the fields named, the input echoed only as a short excerpt
        raise HTTPException(422, short_errors(exc.errors())) from None


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI `requestBody` of an endpoint that reads `model` itself."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


def check_session(session: str) -> str:
    """Only ids the server made look like this; anything shorter is refused."""
    if not SESSION.match(session):
        raise fail(404, "unknown_session")
    return session
