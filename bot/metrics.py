"""Prometheus metrics (prometheus-client, a registry of our own): inputs handled
per door, outbox messages by status, sends and 429s per channel, follow-ups
pending and how late the most overdue one is, conversations waiting for a
person and the oldest wait. Gauges are read from the store when scraped."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from bot.agents_queue import handed_off_at
from dialogs.model import Commit, OutboxStatus, Ownership
from dialogs.ports import RenderedMessage, SendResult

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)
#: the door an input came through, from its source id's first part
DOORS = {"event": "events", "tg": "telegram", "agents": "telegram_agents", "wa": "whatsapp", "web": "webchat",
         "timer": "follow_up", "slot": "follow_up", "console": "console", "bind": "binding"}  # fmt: skip
Send = Callable[[str, RenderedMessage], Awaitable[SendResult]]


def door_of(source_id: str) -> str:
    return DOORS.get(source_id.partition(":")[0], "other")


class Metrics:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.registry = CollectorRegistry()
        r = self.registry
        self.inputs = Counter("buyerbot_inputs", "Inputs handled, by door", ["door"], registry=r)
        self.sends = Counter("buyerbot_sends", "Send attempts by channel and result", ["channel", "result"], registry=r)
        self.outbox = Gauge("buyerbot_outbox_messages", "Outbox messages waiting to go, by status", ["status"],
                            registry=r)  # fmt: skip
        self.finished = Gauge("buyerbot_outbox_finished", "Outbox messages finished since start, by status",
                              ["status"], registry=r)  # fmt: skip
        self.pending = Gauge("buyerbot_follow_ups_pending", "Follow-ups waiting to come due", registry=r)
        self.lag = Gauge("buyerbot_follow_up_lag_seconds", "How far past due the most overdue follow-up is", registry=r)
        self.waiting = Gauge("buyerbot_conversations_waiting", "Conversations waiting for a person", registry=r)
        self.oldest = Gauge("buyerbot_oldest_wait_seconds", "How long the longest-waiting buyer has waited", registry=r)

    def install(self) -> None:
        self.services.runtime.on_commit.append(self.on_commit)
        for name, channel in self.services.channels.items():
            channel.send = self._counted(name, channel.send)  # type: ignore[method-assign,assignment]

    async def on_commit(self, change: Commit) -> None:
        self.inputs.labels(door_of(change.inbound_source_id)).inc()

    def _counted(self, name: str, send: Send) -> Send:
        async def counted(address: str, message: RenderedMessage) -> SendResult:
            result = await send(address, message)
            if result.ok:
                outcome = "ok"
            elif result.retry_after is not None:
                outcome = "rate_limited"
            else:
                outcome = "held" if result.held else "failed"
            self.sends.labels(name, outcome).inc()
            return result

        return counted

    async def refresh(self) -> None:
        services = self.services
        store, now = services.store, services.runtime.clock.now()
        waiting_to_go = await store.pending_outbox(100_000)
        for status in (OutboxStatus.PENDING, OutboxStatus.SENDING):
            self.outbox.labels(str(status)).set(sum(1 for m in waiting_to_go if m.status is status))
        stats = services.sender.stats
        for finished, value in (("sent", stats.sent), ("held", stats.held), ("failed", stats.failed)):
            self.finished.labels(finished).set(value)
        timers = await store.timers()
        self.pending.set(len(timers))  # from the store: only the leader's scheduler holds any
        overdue = [now - t.due_at for t in timers if t.due_at <= now]
        self.lag.set(max(overdue).total_seconds() if overdue else 0.0)
        waits = [now - handed_off_at(c, now) for c in await store.conversations() if c.ownership is Ownership.WAITING]
        self.waiting.set(len(waits))
        self.oldest.set(max(waits).total_seconds() if waits else 0.0)

    async def render(self) -> bytes:
        await self.refresh()
        return bytes(generate_latest(self.registry))


def serve_separately(metrics: Metrics, host: str, port: int) -> Any:
    """`/metrics` without a token on its own port (BUYERBOT_METRICS_PORT): the
    exporter's own thread serves the values of the last refresh."""
    from prometheus_client import start_http_server

    server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    log.info("metrics on http://%s:%d/metrics", host, port)
    return server, thread
