"""Follow-ups on APScheduler 3.11, run in its own thread so that thousands of
jobs coming due never stall the loop that serves buyers. The store, not
APScheduler, is the source of truth: jobs are rebuilt from it at start-up, so
its MemoryJobStore holds nothing that a crash could lose."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime

from apscheduler.executors.debug import DebugExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from dialogs.model import Timer

log = logging.getLogger(__name__)
FireCallback = Callable[[Timer], None]
#: most due timers handed to `on_due` in one callback on the loop
HAND_OVER = 256


class FollowUpScheduler:
    """One APScheduler per process; a fired job only hands the timer over to
    the asyncio loop (`on_due` runs there), where it becomes an Inbound."""

    def __init__(self, loop: asyncio.AbstractEventLoop, on_due: FireCallback) -> None:
        self.loop = loop
        self.on_due = on_due
        self._store = MemoryJobStore()
        #: committed timer changes waiting for the applier thread (None: stop)
        self._changes: queue.SimpleQueue[tuple[list[Timer], list[str]] | None] = queue.SimpleQueue()
        self._applier: threading.Thread | None = None
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
        if self._applier is None:
            return self._apply_now(timers_set, timers_cancelled)
        self._changes.put((timers_set, timers_cancelled))
        return len(timers_set)

    def _apply_changes(self) -> None:
        while (change := self._changes.get()) is not None:
            try:
                self._apply_now(*change)
            except Exception:
                log.exception("applying follow-up changes failed")

    def _apply_now(self, timers_set: Iterable[Timer], timers_cancelled: Iterable[str]) -> int:
        count = 0
        for timer in timers_set:
            self.scheduler.add_job(
                self._fire,
                trigger=DateTrigger(run_date=timer.due_at),
                args=(timer.conversation_id, timer.name, timer.due_at.isoformat()),
                id=timer.id,
                replace_existing=True,
            )
            count += 1
        for timer_id in timers_cancelled:
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(timer_id)
        return count

    def _fire(self, conversation_id: str, name: str, due_at: str) -> None:
        """On APScheduler's thread: queue the timer and wake the loop once for
        all that are queued (not one loop callback per timer)."""
        self._due.append(Timer(conversation_id, name, datetime.fromisoformat(due_at)))
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
        """Jobs in the store (no lock: `get_jobs` could stall the loop in a burst)."""
        return len(self._store.get_all_jobs())

    def shutdown(self) -> None:
        if self._applier is not None:
            self._changes.put(None)
            self._applier.join(timeout=5)
            self._applier = None
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
