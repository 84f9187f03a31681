"""Drains the outbox: one FIFO per chat, a heap of chats by when they may send
next, the channel's rate limits (shared by all processes on Redis), 429
pauses, retries with backoff, and the message claimed (SENDING, by this
process) before and marked SENT after the call: nothing lost, and a mark that
fails is retried, never the send."""

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

from bot.ratelimit import ChannelLimits, Limits, LocalLimits
from bot.rendering import Renderer
from bot.undelivered import NOT_DELIVERED, no_channel, not_sent_note
from dialogs.model import OutboxMessage, OutboxStatus, TranscriptEntry
from dialogs.ports import Channel, Clock, SendResult, Store

log = logging.getLogger(__name__)
Key = tuple[str, str]
#: longest wait between two tries to mark a sent message (seconds)
MARK_RETRY_MAX = 5.0


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
        limits: Limits | dict[str, ChannelLimits],
        clock: Clock,
        *,
        on_unreachable: Callable[[str], Awaitable[None]] | None = None,
        max_attempts: int = 8,
        concurrency: int = 16,
    ) -> None:
        self.store, self.channels, self.renderer = store, channels, renderer
        self.limits: Limits = LocalLimits(limits) if isinstance(limits, dict) else limits
        self.clock = clock
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
        #: most messages being sent at once (each claims, sends, marks)
        self.concurrency = concurrency
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
        """At start-up: what this process left unsent before a restart, and
        what processes that are gone left, goes out (`sweep`)."""
        await self.sweep(mine_too=True)

    async def sweep(self, mine_too: bool = False) -> int:
        """Take over the messages of processes that are gone (every process
        does this periodically): those they were sending when they stopped
        are sent again (a double is possible only for one whose call was in
        flight), those still waiting simply go out. Returns how many."""
        taken = await self.store.take_outbox(mine_too)
        cut_off = sum(1 for m in taken if m.status is OutboxStatus.SENDING)
        if cut_off:
            log.warning("resending %d message(s) whose delivery was cut off by a crash", cut_off)
        if len(taken) > cut_off:
            log.info("taking over %d unsent message(s) of a process that stopped", len(taken) - cut_off)
        await self.enqueue(taken)
        return len(taken)

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
            wait = self._heap[0][0] - time.monotonic()
            if wait > 0:
                await self._sleep(wait)
                continue
            free = self.concurrency - len(self._busy)
            if free <= 0:  # woken when a send is done
                await self._sleep(MARK_RETRY_MAX)
                continue
            ready = self._take_ready(free)
            if not ready:
                continue
            channel, asked = ready[0][1][0], time.monotonic()
            try:  # one round trip for all of them (shared limits): a busy store never paces one at a time
                answers = await self.limits.reserve_many(channel, [key[1] for _, key in ready])
            except Exception as exc:  # e.g. Redis restarting: try again soon
                log.warning("rate limit check failed: %r", exc)
                answers = [(1.0, True)] * len(ready)
            pause = 0.0
            for (at, key), (wait, everyone) in zip(ready, answers, strict=True):
                if wait <= 0:
                    self._busy.add(key)
                    task = asyncio.create_task(self._send_head(key))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                elif everyone:  # the channel's rate, or a 429: nobody sends meanwhile, the order kept
                    self._schedule(key, at)
                    pause = max(pause, wait)
                else:
                    self._schedule(key, time.monotonic() + wait)
            # the wait was counted when the store answered, a round trip ago
            # (longer when the store or the loop is busy, e.g. a burst being
            # decided): ask again that much sooner, or the bucket's slack (a
            # tenth of a second of messages) runs out while answers travel
            pause -= time.monotonic() - asked
            if pause > 0:
                await self._sleep(pause)

    def _take_ready(self, most: int) -> list[tuple[float, Key]]:
        """Up to `most` chats of one channel whose turn has come, in turn."""
        ready: list[tuple[float, Key]] = []
        now = time.monotonic()
        while self._heap and len(ready) < most:
            at, _, key = self._heap[0]
            if at > now or (ready and key[0] != ready[0][1][0]):
                break
            heapq.heappop(self._heap)
            self._scheduled.discard(key)
            if key not in self._busy and self._queues.get(key):
                ready.append((at, key))
        return ready

    async def _sleep(self, seconds: float) -> None:
        """Wait `seconds`, or less when new work comes (enqueue, a send done).
        Not `asyncio.wait_for`: in Python 3.11 it can swallow a cancellation
        that comes as the wake-up does (the sender then never stopped)."""
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

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
            await self._mark_sent(message, entry)
            return None
        return await self._failed(message, result)

    async def _mark_sent(self, message: OutboxMessage, entry: TranscriptEntry) -> None:
        """The platform took the message: mark it SENT (with its transcript
        entry, one transaction). When the store fails (Redis restarting),
        retry the mark, never the send: meanwhile the message stays claimed
        by this live process, so no other sends it. Only if this process dies
        before a mark goes through is it sent again (by whoever sweeps it)."""
        delay = 0.1
        while True:
            try:
                await self.store.finish_outbox(message, [entry])
                return
            except Exception as exc:
                log.warning("marking %s sent failed, retrying the mark in %.1f s: %r", message.id, delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MARK_RETRY_MAX)

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
            await self.limits.pause(str(message.channel), result.retry_after)
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
