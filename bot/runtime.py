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

from dialogs.engine import DialogEngine
from dialogs.model import Commit, Inbound, Timer
from dialogs.ports import Clock, Store

if TYPE_CHECKING:
    from bot.sender import Sender

log = logging.getLogger(__name__)
TimerSink = Callable[[list[Timer], list[str]], object]


class Runtime:
    def __init__(self, store: Store, engine: DialogEngine, clock: Clock, workers: int = 8) -> None:
        self.store, self.engine, self.clock = store, engine, clock
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
        while True:
            inbound = await queue.get()
            try:
                change = await self.engine.handle(self.store, inbound)
                if change is not None:
                    await self._after_commit(change)
                self.handled += 1
            except Exception:
                # e.g. Redis restarting: the input is safe (inbox, or the timer in
                # the store), so try again later instead of waiting for a restart
                attempt = self._failures.get(inbound.source_id, 0) + 1
                self._failures[inbound.source_id] = attempt
                delay = min(0.5 * 2**attempt, 30.0)
                log.exception("handling %s failed (attempt %d); retrying in %.1fs", inbound.source_id, attempt, delay)
                asyncio.get_running_loop().call_later(delay, self._enqueue, inbound)
            else:
                self._failures.pop(inbound.source_id, None)
            finally:
                self._in_flight -= 1
                if self._in_flight == 0:
                    self._idle.set()

    async def _after_commit(self, change: Commit) -> None:
        conversation = change.conversation
        if change.order is not None and change.order.placed_at is not None:
            await self.ensure_link_token(conversation.id)
        if conversation.channel and conversation.address:
            await self.store.bind(conversation.channel, conversation.address, conversation.id)
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
        token = await self.store.token_for_order(order_id)
        if token is None:
            token = secrets.token_urlsafe(18)
            await self.store.put_link_token(token, order_id)
        return token

    async def mark_unreachable(self, conversation_id: str) -> None:
        source_id = f"unreachable:{conversation_id}:{secrets.token_hex(4)}"
        await self.submit(Inbound(conversation_id, "buyer_unreachable", {}, source_id, self.clock.now()))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
