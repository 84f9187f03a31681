"""The running bot: doors `submit` Inbounds; sharded workers run them through
the engine (same conversation, same worker, so order is kept); committed
outbox goes to the sender, committed timers to the scheduler."""

from __future__ import annotations

import asyncio
import logging
import secrets
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.links import ensure_link_token
from dialogs.engine import DECIDE_SLICE, DialogEngine, load_wanted
from dialogs.model import Commit, Inbound, OutboxStatus, Timer
from dialogs.ports import Clock, Store

if TYPE_CHECKING:
    from bot.sender import Sender

log = logging.getLogger(__name__)
TimerSink = Callable[[list[Timer], list[str]], object]
#: the scheduler's pending follow-ups due by a time, each returned once
Upcoming = Callable[[datetime], list[Timer]]
#: `_handle_batch` lets the loop run others after handing on this many commits
SETTLE_SLICE = 16
#: follow-ups are prepared this long before they are due (see `prepare_ahead`)
PREPARE_AHEAD = timedelta(seconds=10)
#: ... but not when due sooner than this: they fire the usual way
PREPARE_MIN_LEAD = timedelta(seconds=0.5)
#: how often the preparer looks ahead (seconds)
PREPARE_TICK = 0.25
#: follow-ups read and decided per step of the preparer
PREPARE_CHUNK = 64
#: most prepared follow-ups held at once (~8 KB each: ~100 MB at most); the
#: rest fire the usual way. A burst of 10,000 due in the same second fits.
PREPARE_MAX = 12_000
#: prepared writes in flight at once (each takes all that queued meanwhile)
PREPARED_WRITES = 2
#: about the most prepared commits in one write
PREPARED_GROUP = 1_024
#: a prepared follow-up firing later than this after its due time is decided again
PREPARE_VALID = timedelta(seconds=30)


@dataclass(frozen=True)
class Prepared:
    """A due follow-up's turn decided ahead (`DialogEngine.prepare`) and its
    commit encoded (`Store.prepare_commit`)."""

    change: Commit
    commit: object
    due_at: datetime


class Runtime:
    def __init__(self, store: Store, engine: DialogEngine, clock: Clock, workers: int = 8, batch: int = 256) -> None:
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
        #: set by the app to the scheduler's `upcoming`: follow-ups are then prepared ahead
        self.upcoming: Upcoming | None = None
        #: prepared follow-ups by the source id of the Inbound they answer
        self._prepared: dict[str, Prepared] = {}
        #: prepared commits waiting for the write in flight (see `_write_prepared`)
        self._to_write: list[tuple[list[object], asyncio.Future[list[bool]]]] = []
        #: the writes in flight (`_flush_prepared`), at most PREPARED_WRITES
        self._flushers: set[asyncio.Future[None]] = set()
        #: hand-overs of due follow-ups being written and settled (`_write_direct`)
        self._writers: set[asyncio.Future[None]] = set()
        #: due follow-ups taken straight to the write by `fire_timer`
        self._direct: list[tuple[Inbound, Prepared]] = []
        #: follow-ups prepared, committed as prepared, and refused (decided again)
        self.prepare_stats = {"prepared": 0, "used": 0, "refused": 0}
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
        now = self.clock.now()
        inbound = self._due_inbound(timer, now)
        if inbound.conversation_id not in self._busy:
            prepared = self._take_prepared(inbound, now)
            if prepared is not None:
                # nothing of its conversation is queued before it: straight to the write
                self._begin(inbound)
                self._direct.append((inbound, prepared))
                if len(self._direct) == 1:
                    asyncio.get_running_loop().call_soon(self._start_direct)
                return
        self._enqueue(inbound)

    def _take_prepared(self, inbound: Inbound, now: datetime) -> Prepared | None:
        """The follow-up prepared for `inbound`, if any and still valid (taken
        either way: it is used once, or decided again)."""
        prepared = self._prepared.pop(inbound.source_id, None) if self._prepared else None
        if prepared is None or prepared.due_at < now - PREPARE_VALID:
            return None
        return prepared

    def _start_direct(self) -> None:
        """Writes what `fire_timer` took straight, as one step (a scheduler
        hand-over), in a task of its own."""
        ready, self._direct = self._direct, []
        task = asyncio.ensure_future(self._write_direct(ready))
        self._writers.add(task)
        task.add_done_callback(self._writers.discard)

    async def _write_direct(self, ready: list[tuple[Inbound, Prepared]]) -> None:
        refused = await self._write_and_settle(ready)
        for inbound in refused:
            self._enqueue(inbound)  # decided again, after what came for its conversation meanwhile
        self._done(refused)

    @staticmethod
    def _due_inbound(timer: Timer, received_at: datetime) -> Inbound:
        due = timer.due_at.isoformat()
        return Inbound(
            conversation_id=timer.conversation_id,
            trigger="follow_up_due",
            payload={"timer": timer.name, "due_at": due},
            source_id=f"timer:{timer.id}:{due}",
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
        self._tasks.append(asyncio.create_task(self._prepare_forever(), name="follow-up-preparer"))
        for inbound in await self.store.pending_inbound(limit=1_000_000):
            self._enqueue(inbound)

    # -- follow-ups prepared ahead -----------------------------------------------
    async def _prepare_forever(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(PREPARE_TICK)
            ticks += 1
            if ticks % 40 == 0:
                self._forget_prepared()
            try:
                await self.prepare_ahead()
            except Exception:  # they fire the usual way
                log.exception("preparing follow-ups ahead failed")

    async def prepare_ahead(self) -> int:
        """Decide the follow-ups due in the next PREPARE_AHEAD now, each as of
        its due instant, and encode their commits; when one comes due, its
        commit is written if its conversation has not changed since (checked
        in the store's transaction, `Store.commit_prepared`) and it is decided
        again the usual way if it has. A burst of follow-ups due in the same
        second then costs little more than the writes at that second (10,000
        take ~2 s of reading and deciding on 2 cores, spread over the seconds
        before). Returns how many were prepared."""
        if self.upcoming is None:
            return 0
        now = self.clock.now()
        timers = [t for t in self.upcoming(now + PREPARE_AHEAD) if t.due_at >= now + PREPARE_MIN_LEAD]
        count = 0
        for start in range(0, len(timers), PREPARE_CHUNK):
            room = PREPARE_MAX - len(self._prepared)
            if room <= 0:
                log.info("%d follow-up(s) not prepared ahead: %d already are", len(timers) - start, PREPARE_MAX)
                break
            chunk = [(t, self._due_inbound(t, now)) for t in timers[start : start + min(PREPARE_CHUNK, room)]]
            chunk = [(t, inbound) for t, inbound in chunk if inbound.source_id not in self._prepared]
            loaded = await self.store.load_versioned([load_wanted(inbound) for _, inbound in chunk])
            for k, ((timer, inbound), (found, version)) in enumerate(zip(chunk, loaded, strict=True)):
                if k and k % DECIDE_SLICE == 0:
                    await asyncio.sleep(0)  # a long step must not hold the loop
                try:
                    change = self.engine.prepare(inbound, found)
                    if change is None:
                        continue
                    commit = self.store.prepare_commit(change, version)
                except Exception:  # it will be decided the usual way
                    log.exception("preparing follow-up %s failed", inbound.source_id)
                    continue
                self._prepared[inbound.source_id] = Prepared(change, commit, timer.due_at)
                count += 1
            await asyncio.sleep(0)
        self.prepare_stats["prepared"] += count
        return count

    def _forget_prepared(self) -> None:
        """Drop prepared follow-ups that never fired (cancelled, moved)."""
        oldest = self.clock.now() - PREPARE_VALID
        for source_id in [s for s, p in self._prepared.items() if p.due_at < oldest]:
            del self._prepared[source_id]

    def _write_prepared(self, commits: list[object]) -> asyncio.Future[list[bool]]:
        """`Store.commit_prepared`, shared by the scheduler's hand-overs and
        the workers: up to PREPARED_WRITES writes in flight, and what comes
        meanwhile goes in the next one (a burst's writes are then a few large
        ones, not one per hand-over or worker batch)."""
        future: asyncio.Future[list[bool]] = asyncio.get_running_loop().create_future()
        self._to_write.append((commits, future))
        # (only flushers count here: a hand-over that is still settling holds none)
        if len(self._flushers) < PREPARED_WRITES:
            flusher = asyncio.ensure_future(self._flush_prepared())
            self._flushers.add(flusher)
            flusher.add_done_callback(self._flushers.discard)
        return future

    async def _flush_prepared(self) -> None:
        while self._to_write:
            # up to about PREPARED_GROUP commits: the store's work around a write
            # (its locks, its checks) runs on the loop, in proportion
            count, take = 0, 0
            while take < len(self._to_write) and count < PREPARED_GROUP:
                count += len(self._to_write[take][0])
                take += 1
            groups, self._to_write = self._to_write[:take], self._to_write[take:]
            try:
                written = await self.store.commit_prepared([c for commits, _ in groups for c in commits])
            except Exception as exc:  # unknown what went through: see `_write_and_settle`
                for _, future in groups:
                    if not future.done():
                        future.set_exception(exc)
                continue
            at = 0
            for commits, future in groups:
                if not future.done():
                    future.set_result(written[at : at + len(commits)])
                at += len(commits)

    async def _commit_prepared(self, batch: list[Inbound]) -> list[Inbound]:
        """Write the prepared commits of `batch` that are still valid; returns
        the inbounds left to handle the usual way (in order)."""
        now = self.clock.now()
        ready = [(inbound, p) for inbound in batch if (p := self._take_prepared(inbound, now)) is not None]
        if not ready:
            return batch
        refused = {inbound.source_id for inbound in await self._write_and_settle(ready)}
        written = {inbound.source_id for inbound, _ in ready} - refused
        return [inbound for inbound in batch if inbound.source_id not in written]

    async def _write_and_settle(self, ready: list[tuple[Inbound, Prepared]]) -> list[Inbound]:
        """Write prepared follow-ups and settle (and mark done) those written;
        returns the refused ones, to be decided again: nothing of them was
        written, or (all of them, when the write failed, e.g. the store is
        down or its answer was lost) maybe some was, and `_hand_on_stored`
        hands on their stored messages later."""
        try:
            written = await self._write_prepared([prepared.commit for _, prepared in ready])
        except Exception:
            log.warning("writing %d prepared follow-up(s) failed", len(ready), exc_info=True)
            written = [False] * len(ready)
            self._unsure.update(inbound.conversation_id for inbound, _ in ready)
        done = [(inbound, prepared.change) for (inbound, prepared), ok in zip(ready, written, strict=True) if ok]
        refused = [inbound for (inbound, _), ok in zip(ready, written, strict=True) if not ok]
        self.prepare_stats["used"] += len(done)
        self.prepare_stats["refused"] += len(refused)
        try:
            await self._settle_many(done)
        finally:
            self._done([inbound for inbound, _ in done])
        return refused

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
            if self._prepared:
                batch = await self._commit_prepared(batch)
            if len(batch) == 1:
                await self._handle_one(batch[0])
            elif batch:
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
            self._done([inbound])

    async def _settle(self, inbound: Inbound, change: Commit | None) -> None:
        await self._settle_many([(inbound, change)])

    async def _handle_batch(self, batch: list[Inbound]) -> None:
        try:
            results = await self.engine.handle_many(self.store, batch)
        except Exception:  # e.g. the commit failed: nothing of the batch was written
            for inbound in batch:
                self._retry(inbound)
            self._done(batch)
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
            self._done(batch)

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

    def prepared(self) -> int:
        """Follow-ups prepared ahead, waiting for their due time."""
        return len(self._prepared)

    async def close(self) -> None:
        tasks = [*self._tasks, *self._writers, *self._flushers]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
