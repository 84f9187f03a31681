"""Bad input is the client's error, never the server's: validation errors
answer 422 with at most a short excerpt of what was sent, and input that only
fails deep inside (a number too large for the store, text no codec takes)
answers 400 instead of 500. A store that is down for a moment (Redis
restarting) answers 503 with Retry-After: the client tries again, nothing is lost."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis import exceptions as redis_errors

log = logging.getLogger(__name__)
#: characters of the offending input a validation error may echo
EXCERPT = 80


def excerpt(value: Any) -> Any:
    """Scalars as they are when short; anything else as a truncated repr."""
    if value is None or (isinstance(value, bool | int | float) and len(repr(value)) <= EXCERPT):
        return value
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= EXCERPT else text[:EXCERPT] + "…"


def short_errors(errors: Any) -> list[dict[str, Any]]:
    shown: list[dict[str, Any]] = []
    for error in list(errors)[:20]:
        item = {"loc": list(error.get("loc", ())), "msg": str(error.get("msg", ""))[:200],
                "type": str(error.get("type", ""))}  # fmt: skip
        if "input" in error:
            item["input"] = excerpt(error["input"])
        shown.append(item)
    return shown


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": short_errors(exc.errors())}, status_code=422)


async def on_bad_value(request: Request, exc: Exception) -> JSONResponse:
    log.warning("%s %s: bad input: %s", request.method, request.url.path, type(exc).__name__)
    return JSONResponse({"detail": "the request holds a value this server cannot use"}, status_code=400)


async def on_store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("%s %s: store unavailable: %s", request.method, request.url.path, type(exc).__name__)
    return JSONResponse({"detail": "the store is unavailable for a moment; try again"}, status_code=503,
                        headers={"Retry-After": "1"})  # fmt: skip


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, on_validation_error)
    for kind in (OverflowError, UnicodeError):
        app.add_exception_handler(kind, on_bad_value)
    # redis-py's errors are not the builtin ConnectionError; BusyLoadingError (AOF replay) is one of them
    for down in (ConnectionError, redis_errors.ConnectionError, redis_errors.TimeoutError):
        app.add_exception_handler(down, on_store_unavailable)
