"""Who fires follow-ups: the process holding the scheduler lease. Every
process runs `Leadership`; the holder renews its lease well before it runs
out and stops firing at once when a renewal fails, a standby takes the lease
once it has lapsed. The leader reads the follow-ups coming due from the store
(`TimerFeed`), so it fires every process's timers, not only its own."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

from dialogs.model import Timer
from dialogs.ports import Clock

log = logging.getLogger(__name__)
#: how long a lease lasts unless renewed (seconds)
LEASE_TTL = 10.0
#: how often the holder renews it and a standby tries to take it (seconds):
#: a standby takes over at most LEASE_TTL + RENEW_EVERY after the leader died
RENEW_EVERY = 2.0
#: how far ahead the leader reads the follow-ups coming due
LOOKAHEAD = timedelta(seconds=10)
#: how often it reads them (seconds): a follow-up set by another process
#: less than this before its due time fires up to this late
FEED_EVERY = 1.0
#: timers handed to the scheduler in one step of the loop
FEED_PAGE = 500


class Lease(Protocol):
    async def hold(self, fence: str | None) -> str | None:
        """Take the lease when it is free, or renew it when `fence` is the
        one we hold; the fencing token held now, or None when another
        process holds the lease."""

    async def release(self, fence: str) -> None: ...


class DueTimers(Protocol):
    async def timers_due(self, until: datetime) -> list[Timer]: ...


class Leadership:
    """Runs `on_lead(fence)` when this process takes the lease and
    `on_lose()` the moment it no longer knows it holds it."""

    def __init__(
        self,
        lease: Lease,
        on_lead: Callable[[str], Awaitable[None]],
        on_lose: Callable[[], Awaitable[None]],
        every: float = RENEW_EVERY,
    ) -> None:
        self.lease, self.on_lead, self.on_lose = lease, on_lead, on_lose
        self.every = every
        #: the fencing token of the lease we hold, None when standing by
        self.fence: str | None = None
        #: the last fencing token we held (a lease we may still hold after a failed renewal)
        self._last: str | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def role(self) -> str:
        return "leader" if self.fence is not None else "standby"

    async def start(self) -> None:
        """One try now (a single process leads before it serves), then in the background."""
        await self._step()
        self._task = asyncio.create_task(self._run(), name="scheduler-lease")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            await self._step()

    async def _step(self) -> None:
        try:
            async with asyncio.timeout(self.every):
                # after a failed renewal the lease may still be ours: renew it then
                fence = await self.lease.hold(self.fence or self._last)
        except Exception as exc:  # e.g. the store is down: we cannot know we still lead
            if self.fence is not None:
                log.warning("scheduler lease not renewed (%r): standing by at once", exc)
                await self._lose()
            return
        if fence is not None and fence == self.fence:
            return
        if self.fence is not None:
            log.warning("scheduler lease lost: standing by")
            await self._lose()
        if fence is not None:
            self.fence = self._last = fence
            log.info("scheduler lease taken (%s): this process fires follow-ups", fence)
            await self.on_lead(fence)

    async def _lose(self) -> None:
        self.fence = None
        try:
            await self.on_lose()
        except Exception:
            log.exception("standing by failed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.fence is not None:
            fence = self.fence
            await self._lose()
            try:  # a standby takes over at once instead of after the lease lapses
                await self.lease.release(fence)
            except Exception as exc:
                log.warning("scheduler lease not released (it lapses by itself): %r", exc)


class Fed(Protocol):
    """What the feed hands the timers to (`FollowUpScheduler`)."""

    def feed(self, timers: list[Timer], complete: bool = True) -> int: ...

    def forget_handled(self, in_store: set[str]) -> None: ...


class TimerFeed:
    """On the leader: reads the follow-ups due within LOOKAHEAD from the store
    every FEED_EVERY and hands the scheduler the ones it does not hold yet,
    FEED_PAGE at a time with the loop serving others in between (10,000 due
    in the same second are 20 short steps, not one long one)."""

    def __init__(self, store: DueTimers, scheduler: Fed, clock: Clock) -> None:
        self.store, self.scheduler, self.clock = store, scheduler, clock
        self._task: asyncio.Task[None] | None = None

    async def poll(self) -> int:
        timers = await self.store.timers_due(self.clock.now() + LOOKAHEAD)
        fed, in_store = 0, set[str]()
        for start in range(0, len(timers), FEED_PAGE):
            if start:
                await asyncio.sleep(0)
            page = timers[start : start + FEED_PAGE]
            fed += self.scheduler.feed(page, complete=False)
            in_store.update(timer.id for timer in page)
        self.scheduler.forget_handled(in_store)
        return fed

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="timer-feed")

    async def _run(self) -> None:
        while True:
            try:
                await self.poll()
            except Exception as exc:  # the store is down: the lease goes too, soon
                log.warning("reading the follow-ups coming due failed: %r", exc)
            await asyncio.sleep(FEED_EVERY)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
