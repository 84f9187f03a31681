"""The HTTP server's connection limits: uvicorn's own options (keep-alive
timeout, concurrency, header size) plus what uvicorn lacks: a deadline for a
request's headers and a cap on open connections that evicts stalled ones."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.config import Settings

log = logging.getLogger(__name__)


class ConnectionGate:
    """The connections of one server that have not sent a complete request
    head yet, oldest first; at the cap, the oldest of them makes room."""

    def __init__(self, max_connections: int, header_timeout: float) -> None:
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        self.open = 0
        self.waiting: OrderedDict[GuardedH11Protocol, None] = OrderedDict()
        self.evicted = 0

    def admit(self, newcomer: GuardedH11Protocol) -> bool:
        """True when `newcomer` may stay open (after evicting a stalled one if needed)."""
        if self.open < self.max_connections:
            return True
        oldest = next(iter(self.waiting), None)
        if oldest is None:
            return False
        oldest.drop("evicted: too many open connections")
        self.evicted += 1
        return True


def guarded_protocol(gate: ConnectionGate) -> type[H11Protocol]:
    """uvicorn's h11 protocol with the gate's header deadline and connection cap."""

    class Guarded(GuardedH11Protocol):
        pass

    Guarded.gate = gate
    return Guarded


class GuardedH11Protocol(H11Protocol):
    gate: ConnectionGate

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.gate.open += 1
        self._counted = True
        self._deadline: asyncio.TimerHandle | None = None
        self._seen_cycle: Any = None
        if not self.gate.admit(self):
            self.drop("refused: too many open connections")
            return
        self._await_head(self.gate.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_arrived()
        if getattr(self, "_counted", False):
            self._counted = False
            self.gate.open -= 1
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not None and self.cycle is not self._seen_cycle:
            self._seen_cycle = self.cycle
            self._head_arrived()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            # idle: uvicorn's keep-alive timeout closes it; a half-sent next head: ours
            self._await_head(self.timeout_keep_alive + self.gate.header_timeout)

    def drop(self, reason: str) -> None:
        self._head_arrived()
        if not self.transport.is_closing():
            log.debug("connection from %s closed: %s", self.client, reason)
            self.transport.abort()

    def _await_head(self, seconds: float) -> None:
        self._head_arrived()
        self.gate.waiting[self] = None
        self._deadline = self.loop.call_later(seconds, self.drop, "request head not received in time")

    def _head_arrived(self) -> None:
        deadline = getattr(self, "_deadline", None)
        if deadline is not None:
            deadline.cancel()
            self._deadline = None
        self.gate.waiting.pop(self, None)


def server_config(app: Any, settings: Settings) -> uvicorn.Config:
    gate = ConnectionGate(settings.http_max_connections, settings.http_header_timeout)
    return uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        lifespan="on",
        access_log=False,
        http=guarded_protocol(gate),
        timeout_keep_alive=settings.http_keep_alive_timeout,
        limit_concurrency=settings.http_max_concurrency,
        h11_max_incomplete_event_size=settings.http_max_header_bytes,
    )
