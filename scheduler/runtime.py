"""Follow-ups on APScheduler 3.11, run in its own thread so that thousands of
jobs coming due never stall the loop that serves buyers. The store, not
APScheduler, is the source of truth: jobs are rebuilt from it at start-up, so
its MemoryJobStore holds nothing that a crash could lose.

APScheduler holds one job per due *instant* (due times rounded up to
`QUANTUM_US`), not one per follow-up: the follow-ups themselves sit in a dict
here. APScheduler costs ~40 us per job it fires and ~45 us per job added
(Job creation checks the callable's signature each time), which made it the
largest part of a burst of 10,000 due follow-ups on 2 cores; a follow-up now
costs two dict operations, and a burst due in the same second is at most
1,000 jobs (1 s / QUANTUM_US; one when due at the same instant). A follow-up
fires at most 1 ms late, within APScheduler's own wake-up jitter."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from apscheduler.executors.debug import DebugExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from dialogs.model import Timer

log = logging.getLogger(__name__)
FireCallback = Callable[[Timer], None]
#: most due timers handed to `on_due` in one callback on the loop
HAND_OVER = 64
#: due times are rounded up to this (microseconds): one APScheduler job per slot
QUANTUM_US = 1_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CLEAR = "clear"
ONE_US = timedelta(microseconds=1)


def slot_of(due_at: datetime) -> int:
    """The APScheduler slot (a multiple of QUANTUM_US) a timer fires in: at
    or after its due time, never before (naive means UTC)."""
    if due_at.tzinfo is None:
        due_at = due_at.replace(tzinfo=UTC)
    return -(-((due_at - EPOCH) // ONE_US) // QUANTUM_US)


def slot_time(slot: int) -> datetime:
    return EPOCH + timedelta(microseconds=slot * QUANTUM_US)


class FollowUpScheduler:
    """One APScheduler per process; a fired job (one per slot) only hands its
    slot's timers over to the asyncio loop (`on_due` runs there for each),
    where they become Inbounds."""

    def __init__(self, loop: asyncio.AbstractEventLoop, on_due: FireCallback) -> None:
        self.loop = loop
        self.on_due = on_due
        self._store = MemoryJobStore()
        #: committed timer changes waiting for the applier thread (None: stop,
        #: CLEAR: forget everything, on losing the lead)
        self._changes: queue.SimpleQueue[tuple[list[Timer], list[str]] | str | None] = queue.SimpleQueue()
        self._applier: threading.Thread | None = None
        #: pending follow-ups: timer id -> (slot, timer), and the timers of each slot;
        #: guarded by `_index_lock` (never held while calling APScheduler)
        self._timers: dict[str, tuple[int, Timer]] = {}
        self._slots: dict[int, dict[str, Timer]] = {}
        self._index_lock = threading.Lock()
        #: handed over, maybe not handled yet: timer id -> due (see `feed`)
        self._fired: dict[str, datetime] = {}
        #: this process fires follow-ups (it holds the lead); a standby fires none
        self.active = True
        #: fired on APScheduler's thread, waiting for the loop (see `_fire`)
        self._due: deque[Timer] = deque()
        self._wake_lock = threading.Lock()
        self._wake_pending = False
        self.scheduler = BackgroundScheduler(
            jobstores={"default": self._store},
            # a job only queues its timer for the loop: run it on the scheduler's own
            # thread (a thread pool per job costs more than the job, ~10,000 at once)
            executors={"default": DebugExecutor()},
            job_defaults={
                # Overdue follow-ups always fire (late is better than lost); the
                # dialog's guard drops the ones whose order has moved on.
                "misfire_grace_time": None,
                "coalesce": True,
                "max_instances": 1,
            },
            timezone="UTC",
        )

    def start(self, timers: Iterable[Timer]) -> int:
        count = self._apply_now(timers, ())
        self.scheduler.start()
        self._applier = threading.Thread(target=self._apply_changes, name="follow-up-applier", daemon=True)
        self._applier.start()
        log.info("scheduler started with %d pending follow-up(s)", count)
        return count

    def apply(self, timers_set: Iterable[Timer], timers_cancelled: Iterable[str]) -> int:
        """Mirror committed timer changes; `timers_cancelled` are timer ids.
        Once started this only queues them (in order) for the applier thread:
        APScheduler's add_job/remove_job wait for its jobstore lock, which its
        own thread holds while it submits a whole burst of due jobs (about
        0.8 s for 10,000 on 2 cores), and the loop must never wait for that."""
        timers_set, timers_cancelled = list(timers_set), list(timers_cancelled)
        if not self.active:
            return 0
        if self._applier is None:
            return self._apply_now(timers_set, timers_cancelled)
        self._changes.put((timers_set, timers_cancelled))
        return len(timers_set)

    def _apply_changes(self) -> None:
        while (change := self._changes.get()) is not None:
            try:
                if change == CLEAR:
                    self._clear_now()
                elif isinstance(change, tuple):
                    self._apply_now(*change)
            except Exception:
                log.exception("applying follow-up changes failed")

    def feed(self, timers: Iterable[Timer], complete: bool = True) -> int:
        """The follow-ups the store says are due soon (any process may have
        set them): those this scheduler does not hold yet with that due time,
        and has not fired with it, are set. `complete`: `timers` is all the
        store holds in the window, so a fired timer missing from it was
        handled (forgotten here, see `forget_handled`; a feed read in pages
        passes False and calls that once all pages are fed). Returns how
        many were set."""
        if not self.active:
            return 0
        timers = list(timers)
        with self._index_lock:
            held = self._timers
            new = [
                t
                for t in timers
                if (found := held.get(t.id)) is None or found[1].due_at != t.due_at
                if self._fired.get(t.id) != t.due_at
            ]
        if complete:
            self.forget_handled({t.id for t in timers})
        if new:
            self.apply(new, ())
        return len(new)

    def forget_handled(self, in_store: set[str]) -> None:
        """Fired timers whose id is not among `in_store` (all the timers the
        store holds due soon) were handled: forgotten here."""
        with self._index_lock:
            for timer_id in [i for i in self._fired if i not in in_store]:
                del self._fired[timer_id]

    def lead(self) -> None:
        """This process now holds the lead: it fires what `feed` and `apply` give."""
        self.active = True

    def stand_by(self) -> None:
        """The lead is lost: fire nothing more, at once, and forget every
        follow-up (the next leader reads them from the store)."""
        self.active = False
        self._due.clear()
        if self._applier is None:
            self._clear_now()
        else:
            self._changes.put(CLEAR)

    def _clear_now(self) -> None:
        with self._index_lock:
            slots = list(self._slots)
            self._timers.clear()
            self._slots.clear()
            self._fired.clear()
        for slot in slots:
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(f"slot:{slot}")

    def _apply_now(self, timers_set: Iterable[Timer], timers_cancelled: Iterable[str]) -> int:
        """Sets, then cancels, in the index; a slot that gains its first timer
        gets its APScheduler job, one that loses its last loses the job."""
        count = 0
        added: list[int] = []  # slots that got their first timer
        emptied: list[int] = []  # slots that lost their last one
        with self._index_lock:
            for timer in timers_set:
                self._unindex(timer.id, emptied)
                slot = slot_of(timer.due_at)
                self._timers[timer.id] = (slot, timer)
                timers = self._slots.get(slot)
                if timers is None:
                    timers = self._slots[slot] = {}
                    added.append(slot)
                timers[timer.id] = timer
                count += 1
            for timer_id in timers_cancelled:
                self._unindex(timer_id, emptied)
        # a slot both emptied and given a timer again here keeps (or gets) its job
        for slot in dict.fromkeys(emptied):
            if slot not in self._slots:
                with contextlib.suppress(JobLookupError):
                    self.scheduler.remove_job(f"slot:{slot}")
        for slot in added:
            if slot in self._slots:
                self.scheduler.add_job(
                    self._fire,
                    trigger=DateTrigger(run_date=slot_time(slot)),
                    args=(slot,),
                    id=f"slot:{slot}",
                    replace_existing=True,
                )
        return count

    def _unindex(self, timer_id: str, emptied: list[int]) -> None:
        """Drop a timer from the index (under `_index_lock`)."""
        found = self._timers.pop(timer_id, None)
        if found is None:
            return
        timers = self._slots[found[0]]
        del timers[timer_id]
        if not timers:
            del self._slots[found[0]]
            emptied.append(found[0])

    def _fire(self, slot: int) -> None:
        """On APScheduler's thread: queue the slot's timers and wake the loop
        once for all that are queued (not one loop callback per timer)."""
        with self._index_lock:
            timers = self._slots.pop(slot, None)
            if not timers:
                return
            for timer_id, timer in timers.items():
                del self._timers[timer_id]
                self._fired[timer_id] = timer.due_at
            if not self.active:
                return
        self._due.extend(timers.values())
        with self._wake_lock:
            if self._wake_pending:
                return
            self._wake_pending = True
        try:
            self.loop.call_soon_threadsafe(self._hand_over)
        except RuntimeError:  # the loop is closed: shutting down
            with self._wake_lock:
                self._wake_pending = False

    def _hand_over(self) -> None:
        """On the loop: up to HAND_OVER due timers to `on_due`, then the loop
        serves others before the next ones (a burst never blocks it long)."""
        with self._wake_lock:
            self._wake_pending = False
        for _ in range(min(HAND_OVER, len(self._due))):
            if not self.active:
                self._due.clear()
                break
            timer = self._due.popleft()
            try:
                self.on_due(timer)
            except Exception:
                log.exception("handing over follow-up %s failed", timer.id)
        if self._due:
            with self._wake_lock:
                if self._wake_pending:
                    return
                self._wake_pending = True
            self.loop.call_soon(self._hand_over)

    def pending(self) -> int:
        """Follow-ups waiting to come due (no lock: a dict's length)."""
        return len(self._timers)

    def shutdown(self) -> None:
        if self._applier is not None:
            self._changes.put(None)
            self._applier.join(timeout=5)
            self._applier = None
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
