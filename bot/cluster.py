"""One process among several on one store: its name, the scheduler lease
(`scheduler.leader.Leadership`) and what follows from holding it (firing
follow-ups read from the store, Telegram polling), and the periodic sweeps
that take over what processes that are gone left behind. On SQLite there is
one process: it always leads, and its sweeps find nothing of others."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from bot.runtime import Runtime
from bot.sender import Sender
from dialogs.ports import Clock, Store
from scheduler.leader import LEASE_TTL, Leadership, TimerFeed
from scheduler.runtime import FollowUpScheduler

log = logging.getLogger(__name__)
#: how often every process looks for what a process that is gone left (seconds)
SWEEP_EVERY = 5.0
Hook = Callable[[], Awaitable[None]]


def process_name(port: int) -> str:
    """Stable across restarts of the same process (host and HTTP port): a
    restarted process takes its own leftovers at once."""
    return f"{socket.gethostname()}:{port}" if port else f"{socket.gethostname()}:pid{os.getpid()}"


class StoreLease:
    """The scheduler lease in a shared store (Redis): `scheduler.leader.Lease`."""

    def __init__(self, store: Any, ttl: float = LEASE_TTL) -> None:
        self.store, self.ttl = store, ttl

    async def hold(self, fence: str | None) -> str | None:
        held: str | None = await self.store.hold_lease(fence, self.ttl)
        return held

    async def release(self, fence: str) -> None:
        await self.store.release_lease(fence)


class SoleLease:
    """One process (SQLite): the lease is always ours."""

    async def hold(self, fence: str | None) -> str | None:
        return "sole"

    async def release(self, fence: str) -> None:
        return None


class Cluster:
    def __init__(
        self, store: Store, runtime: Runtime, sender: Sender, scheduler: FollowUpScheduler, clock: Clock
    ) -> None:
        self.store, self.runtime, self.sender, self.scheduler = store, runtime, sender, scheduler
        self.shared = callable(getattr(store, "hold_lease", None))
        lease = StoreLease(store) if self.shared else SoleLease()
        self.leadership = Leadership(lease, self._lead, self._stand_by)
        self.feed = TimerFeed(store, scheduler, clock)
        #: called on taking the lead and on losing it (e.g. Telegram polling)
        self.on_lead: list[Hook] = []
        self.on_stand_by: list[Hook] = []
        self._sweeper: asyncio.Task[None] | None = None
        if self.shared:  # follow-ups' commits need the lease from now on
            store.fencing = True  # type: ignore[attr-defined]

    @property
    def role(self) -> str:
        return self.leadership.role

    async def start(self) -> None:
        """Take the lead if free (one process leads before serving)."""
        self.scheduler.stand_by()
        await self.leadership.start()

    def start_sweeping(self) -> None:
        if self.shared:
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="sweeper")

    async def _lead(self, fence: str) -> None:
        if self.shared:
            self.store.fence = fence  # type: ignore[attr-defined]
        self.scheduler.lead()
        try:
            await self.feed.poll()
        except Exception as exc:  # the feed tries again every second
            log.warning("reading the follow-ups coming due failed: %r", exc)
        self.feed.start()
        for hook in self.on_lead:
            await hook()

    async def _stand_by(self) -> None:
        if self.shared:
            self.store.fence = None  # type: ignore[attr-defined]
        self.scheduler.stand_by()
        await self.feed.stop()
        for hook in self.on_stand_by:
            await hook()

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            try:
                await self.runtime.sweep()
                await self.sender.sweep()
            except Exception as exc:  # the store is down: next time
                log.warning("sweeping for what stopped processes left failed: %r", exc)

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        await self.leadership.stop()
