"""Request bodies bounded before anything parses them: an ASGI middleware that
refuses a declared Content-Length over the route's limit with 413, counts the
bytes of a streamed body, and gives up (408) on a body that arrives too slowly.
Routes declare their own limits (`BodyLimits.declare`)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class BodyRule:
    path: str
    max_bytes: int
    #: seconds the whole body may take to arrive (None: the default)
    read_timeout: float | None = None
    #: `path` is a prefix ("/chat/api/") rather than one exact path
    prefix: bool = False

    def matches(self, path: str) -> bool:
        return path.startswith(self.path) if self.prefix else path == self.path


class BodyLimits:
    """Per-route limits: an exact path beats the longest matching prefix,
    which beats the default."""

    def __init__(self, default_bytes: int, read_timeout: float) -> None:
        self.default = BodyRule("", default_bytes, read_timeout, prefix=True)
        self.read_timeout = read_timeout
        self._rules: list[BodyRule] = []

    def declare(self, path: str, max_bytes: int, *, read_timeout: float | None = None, prefix: bool = False) -> None:
        self._rules = [r for r in self._rules if (r.path, r.prefix) != (path, prefix)]
        self._rules.append(BodyRule(path, max_bytes, read_timeout, prefix))

    def rule_for(self, path: str) -> BodyRule:
        exact = [r for r in self._rules if not r.prefix and r.matches(path)]
        if exact:
            return exact[0]
        prefixes = sorted((r for r in self._rules if r.prefix and r.matches(path)), key=lambda r: -len(r.path))
        return prefixes[0] if prefixes else self.default

    def documented(self) -> list[BodyRule]:
        return sorted(self._rules, key=lambda r: r.path)


#: the rest of a refused body is never read: the connection cannot carry another request
CLOSE = {"connection": "close"}


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit} bytes", CLOSE)


class BodyTooSlow(HTTPException):
    def __init__(self, seconds: float) -> None:
        super().__init__(408, f"request body not received within {seconds:g} s", CLOSE)


class LoneSurrogate(HTTPException):
    def __init__(self) -> None:
        message = "the JSON body holds a \\u escape of half a character (a lone surrogate)"
        super().__init__(422, [{"loc": ["body"], "msg": message, "type": "lone_surrogate"}])  # type: ignore[arg-type]


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = self.limits.rule_for(scope["path"])
        declared = _content_length(scope)
        if declared == -1:
            await _refuse(send, 400, "invalid Content-Length")
            return
        if declared is not None and declared > rule.max_bytes:
            await _refuse(send, 413, f"request body over {rule.max_bytes} bytes")
            return
        timeout = rule.read_timeout if rule.read_timeout is not None else self.limits.read_timeout
        counted = _CountedBody(receive, rule.max_bytes, time.monotonic() + timeout, timeout)
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        receive_body: Receive = counted.receive
        try:
            if _is_json(scope):
                # bounded by the rule above: read whole, checked, then replayed
                receive_body = await _checked_json(counted)
            await self.app(scope, receive_body, watched_send)
        except (BodyTooLarge, BodyTooSlow, LoneSurrogate) as exc:
            if started:
                raise
            await _refuse(send, exc.status_code, exc.detail)


class _CountedBody:
    def __init__(self, receive: Receive, limit: int, deadline: float, timeout: float) -> None:
        self._receive, self._limit, self._deadline, self._timeout = receive, limit, deadline, timeout
        self._seen = 0
        self._done = False

    async def receive(self) -> Message:
        if self._done:
            return await self._receive()  # after the body: only the disconnect
        left = self._deadline - time.monotonic()
        try:
            async with asyncio.timeout(max(left, 0.0)):
                message = await self._receive()
        except TimeoutError:
            raise BodyTooSlow(self._timeout) from None
        if message["type"] == "http.request":
            self._seen += len(message.get("body", b""))
            if self._seen > self._limit:
                raise BodyTooLarge(self._limit)
            self._done = not message.get("more_body", False)
        return message


#: a \\u escape of a surrogate code unit, preceded by an even number of backslashes
_SURROGATE_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u[dD][89a-fA-F]")


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return b"json" in value.lower()
    return False


async def _checked_json(counted: _CountedBody) -> Receive:
    """The whole JSON body, refused when it decodes to text no store can
    encode (a lone surrogate); a `receive` that gives it to the app."""
    chunks: list[bytes] = []
    while True:
        message = await counted.receive()
        if message["type"] != "http.request":
            return _replay([message], counted)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    if _SURROGATE_ESCAPE.search(body) and _holds_lone_surrogate(body):
        raise LoneSurrogate()
    return _replay([{"type": "http.request", "body": body, "more_body": False}], counted)


def _replay(messages: list[Message], counted: _CountedBody) -> Receive:
    async def receive() -> Message:
        return messages.pop(0) if messages else await counted.receive()

    return receive


def _holds_lone_surrogate(body: bytes) -> bool:
    try:
        value = json.loads(body)
    except ValueError:
        return False  # not JSON at all: the route's own parsing says so
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _content_length(scope: Scope) -> int | None:
    """The declared length; None when absent, -1 when not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) < 19 else -1
    return None


async def _refuse(send: Send, status: int, detail: Any) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status in (408, 413):
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def openapi_413(limits: BodyLimits, schema: dict[str, Any]) -> dict[str, Any]:
    """Documents 413 on every operation that takes a body (and 408, too slow)."""
    for path, operations in schema.get("paths", {}).items():
        limit = limits.rule_for(path).max_bytes
        for method, operation in operations.items():
            if method in ("post", "put", "patch"):
                responses = operation.setdefault("responses", {})
                responses.setdefault("413", {"description": f"body over {limit} bytes"})
                responses.setdefault("408", {"description": "body not received in time"})
    return schema
