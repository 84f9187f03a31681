"""The running bot: doors `submit` Inbounds; sharded workers run them through
the engine (same conversation, same worker, so order is kept); committed
outbox goes to the sender, committed timers to the scheduler."""

from __future__ import annotations

import asyncio
import logging
import secrets
import zlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from bot.links import ensure_link_token
from dialogs.engine import DialogEngine
from dialogs.model import Commit, Inbound, OutboxStatus, Timer
from dialogs.ports import TIMER_SOURCE, Clock, FencedOut, Store

if TYPE_CHECKING:
    from bot.sender import Sender

log = logging.getLogger(__name__)
TimerSink = Callable[[list[Timer], list[str]], object]
#: `_handle_batch` lets the loop run others after handing on this many commits
SETTLE_SLICE = 8
#: most inbounds (of different conversations) a worker commits in one
#: transaction: a batch's load and commit are one pipeline each, packed,
#: sent and parsed in one step of the loop (on Redis ~60 us a conversation)
BATCH = 64


class Runtime:
    def __init__(self, store: Store, engine: DialogEngine, clock: Clock, workers: int = 8, batch: int = BATCH) -> None:
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
        #: conversation id -> its inbounds queued or being handled
        self._busy: dict[str, int] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self.handled = 0
        self._failures: dict[str, int] = {}
        #: conversations whose last write failed: it may have gone through all
        #: the same (the store's answer lost on the way), its messages then
        #: stored but never handed to the sender; see `_hand_on_stored`
        self._unsure: set[str] = set()

    async def submit(self, inbound: Inbound) -> bool:
        """Durably accept `inbound` (False: seen before) and queue it."""
        if not await self.store.accept(inbound):
            return False
        self._enqueue(inbound)
        return True

    def fire_timer(self, timer: Timer) -> None:
        """A follow-up came due (called on the loop by the scheduler). Timers
        skip the inbox: the timer itself stays in the store until handled."""
        self._enqueue(self._due_inbound(timer, self.clock.now()))

    @staticmethod
    def _due_inbound(timer: Timer, received_at: datetime) -> Inbound:
        due = timer.due_at.isoformat()
        return Inbound(
            conversation_id=timer.conversation_id,
            trigger="follow_up_due",
            payload={"timer": timer.name, "due_at": due},
            source_id=f"{TIMER_SOURCE}{timer.id}:{due}",
            received_at=received_at,
        )

    def _enqueue(self, inbound: Inbound) -> None:
        shard = zlib.crc32(inbound.conversation_id.encode()) % len(self._queues)
        self._begin(inbound)
        self._queues[shard].put_nowait(inbound)

    def _begin(self, inbound: Inbound) -> None:
        self._in_flight += 1
        self._idle.clear()
        cid = inbound.conversation_id
        self._busy[cid] = self._busy.get(cid, 0) + 1

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work(q)) for q in self._queues]
        await self.sweep(mine_too=True)

    async def sweep(self, mine_too: bool = False) -> int:
        """Take over the accepted inputs of processes that are gone (with
        `mine_too`, at start-up, also this process's own from before a
        restart) and handle them. Returns how many."""
        taken = await self.store.take_inbound(mine_too)
        if taken and not mine_too:
            log.info("taking over %d input(s) accepted by a process that stopped", len(taken))
        for inbound in taken:
            self._enqueue(inbound)
        return len(taken)

    async def _settle_many(self, done: Sequence[tuple[Inbound, Commit | None]]) -> None:
        """After the commits: hand on their results (`_after_commits`); a
        failure there retries the inputs."""
        if not done:
            return
        try:
            await self._after_commits([change for _, change in done if change is not None])
        except Exception:
            for inbound, _ in done:
                self._retry(inbound)
            return
        self.handled += len(done)
        for inbound, _ in done:
            self._failures.pop(inbound.source_id, None)
        if self._unsure:
            await self._hand_on_stored([inbound.conversation_id for inbound, _ in done])

    async def _hand_on_stored(self, conversation_ids: Sequence[str]) -> None:
        """After a write of these conversations that failed, once one of
        theirs went through: their messages still pending in the store go
        to the sender (a write that failed may have been written all the
        same, and its input decided again finds nothing left to say, e.g.
        the follow-up's timer is gone). The sender never sends one twice:
        it claims each in the store first."""
        unsure = [cid for cid in dict.fromkeys(conversation_ids) if cid in self._unsure]
        for cid in unsure:
            self._unsure.discard(cid)
            try:
                pending = [m for m in await self.store.outbox_for(cid) if m.status is OutboxStatus.PENDING]
                if pending and self.sender is not None:
                    await self.sender.enqueue(pending)
            except Exception:
                log.warning("handing on the stored messages of %s failed; trying after its next write", cid)
                self._unsure.add(cid)

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
            # follow-ups apart: their commits are fenced (refused all together
            # when this process lost the scheduler lease), the others' are not
            follow_ups = [inbound for inbound in batch if inbound.source_id.startswith(TIMER_SOURCE)]
            others = [inbound for inbound in batch if not inbound.source_id.startswith(TIMER_SOURCE)]
            for group in (others, follow_ups):
                if len(group) == 1:
                    await self._handle_one(group[0])
                elif group:
                    await self._handle_batch(group)
            await asyncio.sleep(0)  # let buyers' requests in between batches

    async def _handle_one(self, inbound: Inbound) -> None:
        try:
            change = await self.engine.handle(self.store, inbound)
        except FencedOut:
            self._fenced([inbound])
        except Exception:
            self._retry(inbound)
        else:
            await self._settle(inbound, change)
        finally:
            self._done([inbound])

    async def _settle(self, inbound: Inbound, change: Commit | None) -> None:
        await self._settle_many([(inbound, change)])

    async def _handle_batch(self, batch: list[Inbound]) -> None:
        try:
            results = await self.engine.handle_many(self.store, batch)
        except FencedOut:
            self._fenced(batch)
            self._done(batch)
            return
        except Exception:  # e.g. the commit failed: nothing of the batch was written
            for inbound in batch:
                self._retry(inbound)
            self._done(batch)
            return
        try:
            for n, (inbound, result) in enumerate(zip(batch, results, strict=True)):
                if n and n % SETTLE_SLICE == 0:
                    await asyncio.sleep(0)  # a long batch must not hold the loop
                if isinstance(result, FencedOut):
                    self._fenced([inbound])
                elif isinstance(result, Exception):
                    self._retry(inbound, result)
                else:
                    await self._settle(inbound, result)
        finally:
            self._done(batch)

    @staticmethod
    def _fenced(inbounds: list[Inbound]) -> None:
        """Follow-ups fired while this process led the scheduler, refused
        since: they stay in the store, and the new leader fires them."""
        log.info("%d follow-up(s) left to the new scheduler leader", len(inbounds))

    def _retry(self, inbound: Inbound, error: BaseException | None = None) -> None:
        # e.g. Redis restarting: the input is safe (inbox, or the timer in
        # the store), so try again later instead of waiting for a restart
        attempt = self._failures.get(inbound.source_id, 0) + 1
        self._failures[inbound.source_id] = attempt
        self._unsure.add(inbound.conversation_id)
        delay = min(0.5 * 2**attempt, 30.0)
        log.error(
            "handling %s failed (attempt %d); retrying in %.1fs",
            inbound.source_id,
            attempt,
            delay,
            exc_info=error if error is not None else True,
        )
        asyncio.get_running_loop().call_later(delay, self._enqueue, inbound)

    def _done(self, inbounds: list[Inbound]) -> None:
        for inbound in inbounds:
            cid = inbound.conversation_id
            left = self._busy[cid] - 1
            if left:
                self._busy[cid] = left
            else:
                del self._busy[cid]
        self._in_flight -= len(inbounds)
        if self._in_flight == 0:
            self._idle.set()

    async def _after_commits(self, changes: list[Commit]) -> None:
        """Hand on what commits produced, all at once: their timers to the
        scheduler, their messages to the sender; then each to the listeners.
        The binding and a new order's link token are in the commit itself
        (`Commit.bind`, `link_token`)."""
        timers_set = [t for change in changes for t in change.timers_set]
        cancelled = [f"{change.conversation.id}:{name}" for change in changes for name in change.timers_cancelled]
        outbox = [m for change in changes for m in change.outbox]
        if self.timer_sink is not None and (timers_set or cancelled):
            self.timer_sink(timers_set, cancelled)
        if outbox and self.sender is not None:
            await self.sender.enqueue(outbox)
        for n, change in enumerate(changes):
            if self.on_commit and n and n % SETTLE_SLICE == 0:
                await asyncio.sleep(0)  # many listeners' calls must not hold the loop
            for listener in self.on_commit:
                try:
                    await listener(change)
                except Exception:
                    log.exception("after-commit listener failed for %s", change.conversation.id)

    async def ensure_link_token(self, order_id: str) -> str:
        return await ensure_link_token(self.store, order_id)

    async def mark_unreachable(self, conversation_id: str) -> None:
        source_id = f"unreachable:{conversation_id}:{secrets.token_hex(4)}"
        await self.submit(Inbound(conversation_id, "buyer_unreachable", {}, source_id, self.clock.now()))

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
