"""Drains the outbox: one FIFO per chat, a heap of chats by when they may send
next, the channel's rate limits, 429 pauses, retries with backoff, and the
message marked SENDING before and SENT after the call (nothing lost)."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from bot.ratelimit import ChannelLimits
from bot.rendering import Renderer
from bot.undelivered import NOT_DELIVERED, no_channel, not_sent_note
from dialogs.model import OutboxMessage, OutboxStatus, TranscriptEntry
from dialogs.ports import Channel, Clock, SendResult, Store

log = logging.getLogger(__name__)
Key = tuple[str, str]


@dataclass
class SenderStats:
    sent: int = 0
    retried: int = 0
    rate_limited: int = 0
    failed: int = 0
    held: int = 0


class Sender:
    def __init__(
        self,
        store: Store,
        channels: dict[str, Channel],
        renderer: Renderer,
        limits: dict[str, ChannelLimits],
        clock: Clock,
        *,
        on_unreachable: Callable[[str], Awaitable[None]] | None = None,
        max_attempts: int = 8,
        concurrency: int = 16,
    ) -> None:
        self.store, self.channels, self.renderer = store, channels, renderer
        self.limits, self.clock = limits, clock
        self.on_unreachable = on_unreachable
        self.max_attempts = max_attempts
        self.stats = SenderStats()
        #: per chat, the messages to deliver in order (as committed; each
        #: attempt claims the stored copy first, so a stale one is never sent twice)
        self._queues: dict[Key, deque[OutboxMessage]] = {}
        self._heap: list[tuple[float, int, Key]] = []
        self._scheduled: set[Key] = set()
        self._busy: set[Key] = set()
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    # -- feeding ------------------------------------------------------------
    async def enqueue(self, messages: Iterable[OutboxMessage]) -> None:
        for message in messages:
            if not message.channel or not message.address or message.channel not in self.channels:
                self.stats.held += 1
                await self._finish(message, OutboxStatus.HELD, no_channel(message))
                continue
            key = (message.channel, message.address)
            queue = self._queues.setdefault(key, deque())
            if all(queued.id != message.id for queued in queue):
                queue.append(message)
            self._idle.clear()
            self._schedule(key, time.monotonic())
        self._wake.set()

    async def recover(self) -> None:
        """After a restart: everything not yet confirmed sent goes out again."""
        pending = await self.store.pending_outbox(limit=1_000_000)
        uncertain = [m.id for m in pending if m.status is OutboxStatus.SENDING]
        if uncertain:
            log.warning("resending %d message(s) whose delivery was cut off by a crash", len(uncertain))
        await self.enqueue(pending)

    async def drained(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._idle.wait(), timeout)

    # -- the loop -----------------------------------------------------------
    async def run(self) -> None:
        while True:
            if not self._heap:
                if not self._busy:
                    self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            ready, _, key = self._heap[0]
            now = time.monotonic()
            wait = max(ready - now, self.limits[key[0]].delay(key[1]))
            if wait > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
                continue
            heapq.heappop(self._heap)
            self._scheduled.discard(key)
            if key in self._busy or not self._queues.get(key):
                continue
            await self._slots.acquire()
            self.limits[key[0]].take(key[1])
            self._busy.add(key)
            task = asyncio.create_task(self._send_head(key))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _schedule(self, key: Key, at: float) -> None:
        if key in self._scheduled or key in self._busy:
            return
        self._scheduled.add(key)
        heapq.heappush(self._heap, (at, next(self._seq), key))

    async def _send_head(self, key: Key) -> None:
        queue = self._queues[key]
        retry_at = time.monotonic()
        try:
            again = await self._deliver(queue[0])
            if again is None:
                queue.popleft()
            else:
                retry_at = again
        except Exception:
            log.exception("delivery of %s crashed; will retry", queue[0].id)
            retry_at = time.monotonic() + 5
        finally:
            self._slots.release()
            self._busy.discard(key)
            if queue:
                self._schedule(key, retry_at)
            else:
                del self._queues[key]
            self._wake.set()

    async def _deliver(self, queued: OutboxMessage) -> float | None:
        """Send one message; None when done with it, else when to try again."""
        if queued.status in (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.HELD):
            return None
        # one round trip: SENDING with one more attempt, unless it is done already
        message = await self.store.claim_outbox(queued.id)
        if message is None:
            return None
        channel = self.channels[str(message.channel)]
        try:
            rendered = self.renderer.render(message, channel.name, channel.capabilities)
        except (LookupError, ValueError) as exc:
            message.attempts -= 1  # never tried
            await self._finish(message, OutboxStatus.FAILED, f"cannot render: {exc}")
            return None
        try:
            result = await channel.send(str(message.address), rendered)
        except Exception as exc:  # a channel bug must not stop the others
            log.exception("channel %s raised", channel.name)
            result = SendResult(ok=False, error=repr(exc))
        if result.ok:
            message.channel_message_id = result.channel_message_id
            self.stats.sent += 1
            entry = TranscriptEntry(
                message.conversation_id, self.clock.now(), str(message.context.get("author", "bot")), rendered.text,
                tuple({"data": d, "label": label, "url": url, "step": message.step}
                      for d, label, url in rendered.buttons),
                name=str(message.context.get("agent_name", "")),
            )  # fmt: skip
            message.status, message.error = OutboxStatus.SENT, None
            await self.store.finish_outbox(message, [entry])  # one transaction
            return None
        return await self._failed(message, result)

    async def _failed(self, message: OutboxMessage, result: SendResult) -> float | None:
        if result.held:
            self.stats.held += 1
            await self._finish(message, OutboxStatus.HELD, result.error)
            return None
        if result.permanent:
            self.stats.failed += 1
            await self._finish(message, OutboxStatus.FAILED, result.error)
            # our own fault (a bad token, say) says nothing about the buyer
            if self.on_unreachable is not None and not result.extra.get("channel_fault"):
                await self.on_unreachable(message.conversation_id)
            return None
        if result.retry_after is not None:
            self.stats.rate_limited += 1
            self.limits[str(message.channel)].pause(result.retry_after)
            message.attempts -= 1  # a 429 is the platform's pacing, not a failure
            await self._finish(message, OutboxStatus.PENDING, result.error)
            return time.monotonic() + result.retry_after
        if message.attempts >= self.max_attempts:
            self.stats.failed += 1
            await self._finish(message, OutboxStatus.FAILED, result.error)
            return None
        self.stats.retried += 1
        backoff = min(2.0 ** (message.attempts - 1), 60.0)
        await self._finish(message, OutboxStatus.PENDING, result.error)
        return time.monotonic() + backoff

    async def _finish(self, message: OutboxMessage, status: OutboxStatus, error: str | None) -> None:
        message.status, message.error = status, error
        if status in NOT_DELIVERED:  # shown on the order, in the transcript, on the card, in the log
            await self.store.finish_outbox(message, [not_sent_note(message, self.clock.now())])
            return
        await self.store.update_outbox(message)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
