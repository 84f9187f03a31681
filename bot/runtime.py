"""The running bot: doors `submit` Inbounds; sharded workers run them through
the engine (same conversation, same worker, so order is kept); committed
outbox goes to the sender, committed timers to the scheduler."""

from __future__ import annotations

import asyncio
import logging
import secrets
import zlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.links import ensure_link_token
from dialogs.engine import DialogEngine
from dialogs.model import Commit, Inbound, Timer
from dialogs.ports import Clock, Store

if TYPE_CHECKING:
    from bot.sender import Sender

log = logging.getLogger(__name__)
TimerSink = Callable[[list[Timer], list[str]], object]
#: `_handle_batch` lets the loop run others after handing on this many commits
SETTLE_SLICE = 16


class Runtime:
    def __init__(self, store: Store, engine: DialogEngine, clock: Clock, workers: int = 8, batch: int = 64) -> None:
        self.store, self.engine, self.clock = store, engine, clock
        #: most inbounds (of different conversations) a worker commits in one transaction
        self.batch = batch
        self.sender: Sender | None = None
        self.timer_sink: TimerSink | None = None
        #: called after every commit (e.g. the agents' door forwards buyer messages)
        self.on_commit: list[Callable[[Commit], Awaitable[None]]] = []
        self._queues: list[asyncio.Queue[Inbound]] = [asyncio.Queue() for _ in range(workers)]
        self._tasks: list[asyncio.Task[None]] = []
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.handled = 0
        self._failures: dict[str, int] = {}

    async def submit(self, inbound: Inbound) -> bool:
        """Durably accept `inbound` (False: seen before) and queue it."""
        if not await self.store.accept(inbound):
            return False
        self._enqueue(inbound)
        return True

    def fire_timer(self, timer: Timer) -> None:
        """A follow-up came due (called on the loop by the scheduler). Timers
        skip the inbox: the timer itself stays in the store until handled."""
        self._enqueue(
            Inbound(
                conversation_id=timer.conversation_id,
                trigger="follow_up_due",
                payload={"timer": timer.name, "due_at": timer.due_at.isoformat()},
                source_id=f"timer:{timer.id}:{timer.due_at.isoformat()}",
                received_at=self.clock.now(),
            )
        )

    def _enqueue(self, inbound: Inbound) -> None:
        shard = zlib.crc32(inbound.conversation_id.encode()) % len(self._queues)
        self._in_flight += 1
        self._idle.clear()
        self._queues[shard].put_nowait(inbound)

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work(q)) for q in self._queues]
        for inbound in await self.store.pending_inbound(limit=1_000_000):
            self._enqueue(inbound)

    async def idle(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def _work(self, queue: asyncio.Queue[Inbound]) -> None:
        """One shard: takes what is ready (up to `batch` inbounds), handles
        them in order, several conversations per transaction (a burst of due
        follow-ups), and yields to the loop between batches."""
        waiting: list[Inbound] = []  # taken from the queue, not handled yet (in order)
        while True:
            if not waiting:
                waiting.append(await queue.get())
            while len(waiting) < self.batch and not queue.empty():
                waiting.append(queue.get_nowait())
            # the first inbound of each conversation: later ones wait for the next round
            seen: set[str] = set()
            batch: list[Inbound] = []
            rest: list[Inbound] = []
            for inbound in waiting:
                if inbound.conversation_id in seen or len(batch) >= self.batch:
                    rest.append(inbound)
                else:
                    seen.add(inbound.conversation_id)
                    batch.append(inbound)
            waiting = rest
            if len(batch) == 1:
                await self._handle_one(batch[0])
            else:
                await self._handle_batch(batch)
            await asyncio.sleep(0)  # let buyers' requests in between batches

    async def _handle_one(self, inbound: Inbound) -> None:
        try:
            change = await self.engine.handle(self.store, inbound)
        except Exception:
            self._retry(inbound)
        else:
            await self._settle(inbound, change)
        finally:
            self._done(1)

    async def _settle(self, inbound: Inbound, change: Commit | None) -> None:
        """After the commit: hand on its results; a failure there retries the input."""
        try:
            if change is not None:
                await self._after_commit(change)
            self.handled += 1
        except Exception:
            self._retry(inbound)
        else:
            self._failures.pop(inbound.source_id, None)

    async def _handle_batch(self, batch: list[Inbound]) -> None:
        try:
            results = await self.engine.handle_many(self.store, batch)
        except Exception:  # e.g. the commit failed: nothing of the batch was written
            for inbound in batch:
                self._retry(inbound)
            self._done(len(batch))
            return
        try:
            for n, (inbound, result) in enumerate(zip(batch, results, strict=True)):
                if n and n % SETTLE_SLICE == 0:
                    await asyncio.sleep(0)  # a long batch must not hold the loop
                if isinstance(result, Exception):
                    self._retry(inbound, result)
                else:
                    await self._settle(inbound, result)
        finally:
            self._done(len(batch))

    def _retry(self, inbound: Inbound, error: BaseException | None = None) -> None:
        # e.g. Redis restarting: the input is safe (inbox, or the timer in
        # the store), so try again later instead of waiting for a restart
        attempt = self._failures.get(inbound.source_id, 0) + 1
        self._failures[inbound.source_id] = attempt
        delay = min(0.5 * 2**attempt, 30.0)
        log.error(
            "handling %s failed (attempt %d); retrying in %.1fs",
            inbound.source_id,
            attempt,
            delay,
            exc_info=error if error is not None else True,
        )
        asyncio.get_running_loop().call_later(delay, self._enqueue, inbound)

    def _done(self, count: int) -> None:
        self._in_flight -= count
        if self._in_flight == 0:
            self._idle.set()

    async def _after_commit(self, change: Commit) -> None:
        conversation = change.conversation
        # the binding and the new order's link token are in the commit (`Commit.bind`, `link_token`)
        if self.timer_sink is not None and (change.timers_set or change.timers_cancelled):
            cancelled = [f"{conversation.id}:{name}" for name in change.timers_cancelled]
            self.timer_sink(change.timers_set, cancelled)
        if change.outbox and self.sender is not None:
            await self.sender.enqueue(change.outbox)
        for listener in self.on_commit:
            try:
                await listener(change)
            except Exception:
                log.exception("after-commit listener failed for %s", conversation.id)

    async def ensure_link_token(self, order_id: str) -> str:
        return await ensure_link_token(self.store, order_id)

    async def mark_unreachable(self, conversation_id: str) -> None:
        source_id = f"unreachable:{conversation_id}:{secrets.token_hex(4)}"
        await self.submit(Inbound(conversation_id, "buyer_unreachable", {}, source_id, self.clock.now()))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
