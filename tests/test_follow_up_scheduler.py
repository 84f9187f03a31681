"""FollowUpScheduler keeps follow-ups in slots (one APScheduler job per due
slot): what fires, what a cancel or a new due time does, and that a slot's
job exists exactly while the slot has timers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from dialogs.model import Timer
from scheduler.runtime import QUANTUM_US, FollowUpScheduler, slot_of, slot_time


def soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def test_slot_is_never_before_the_due_time() -> None:
    due = datetime(2026, 3, 1, 12, 0, 0, 1, tzinfo=UTC)
    assert slot_time(slot_of(due)) >= due
    assert slot_time(slot_of(due)) - due < timedelta(microseconds=QUANTUM_US)
    exact = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    assert slot_time(slot_of(exact)) == exact
    assert slot_of(exact.replace(tzinfo=None)) == slot_of(exact)  # naive means UTC


async def test_fires_what_is_due_and_not_what_was_cancelled_or_moved() -> None:
    fired: list[Timer] = []
    got_all = asyncio.Event()

    def on_due(timer: Timer) -> None:
        fired.append(timer)
        if len(fired) == 3:
            got_all.set()

    scheduler = FollowUpScheduler(asyncio.get_running_loop(), on_due)
    due = soon(0.3)
    later = soon(3600)
    kept = [Timer(f"c{i}", "nudge", due) for i in range(3)]
    assert scheduler.start([*kept, Timer("c3", "nudge", due), Timer("c4", "offer", due)]) == 5
    try:
        assert scheduler.pending() == 5
        # after start-up, through the applier thread, in order
        scheduler.apply([], ["c3:nudge"])
        scheduler.apply([Timer("c4", "offer", later)], [])
        scheduler.apply([Timer("c5", "nudge", later)], ["c5:nudge"])
        await asyncio.wait_for(got_all.wait(), 10)
        await asyncio.sleep(0.2)  # nothing else comes due
        assert sorted(t.id for t in fired) == sorted(t.id for t in kept)
        assert {t.due_at for t in fired} == {due}
        assert scheduler.pending() == 1  # c4:offer, an hour away
        jobs = scheduler.scheduler.get_jobs()
        assert [job.next_run_time for job in jobs] == [slot_time(slot_of(later))]
    finally:
        scheduler.shutdown()


async def test_a_slot_keeps_its_job_while_it_has_timers() -> None:
    scheduler = FollowUpScheduler(asyncio.get_running_loop(), lambda timer: None)
    due = soon(3600)
    scheduler.start([Timer("c1", "nudge", due), Timer("c2", "nudge", due)])
    try:
        assert len(scheduler.scheduler.get_jobs()) == 1
        scheduler._apply_now([], ["c1:nudge"])
        assert len(scheduler.scheduler.get_jobs()) == 1
        scheduler._apply_now([Timer("c2", "nudge", due + timedelta(seconds=1))], [])
        assert [job.next_run_time for job in scheduler.scheduler.get_jobs()] == [
            slot_time(slot_of(due + timedelta(seconds=1)))
        ]
        scheduler._apply_now([], ["c2:nudge", "c9:nudge"])
        assert scheduler.scheduler.get_jobs() == []
        assert scheduler.pending() == 0
    finally:
        scheduler.shutdown()


async def test_fed_follow_ups_fire_once_and_a_standby_fires_none() -> None:
    """What the leader reads from the store every second (`feed`): a timer it
    holds or already fired with that due time is not set again; one the store
    moved is; a standby (`stand_by`) forgets them all and fires nothing."""
    fired: list[Timer] = []
    scheduler = FollowUpScheduler(asyncio.get_running_loop(), fired.append)
    scheduler.start(())
    try:
        due, later = soon(0.2), soon(3600)
        store = [Timer("c1", "nudge", due), Timer("c2", "nudge", later)]
        assert scheduler.feed(store) == 2
        deadline = asyncio.get_running_loop().time() + 10
        while scheduler.pending() < 2 and not fired:  # set by the applier thread
            await asyncio.sleep(0.01)
        assert scheduler.feed(store) == 0, "held already"
        while not fired:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.02)
        assert scheduler.feed(store) == 0, "c1 fired, still in the store while it is handled"
        assert scheduler.feed([store[1]]) == 0, "c1 handled: gone from the store, forgotten here"
        assert scheduler.feed([Timer("c1", "nudge", later)]) == 1, "set again with another due time"
        scheduler.stand_by()
        await asyncio.sleep(0.1)
        assert scheduler.pending() == 0 and scheduler.scheduler.get_jobs() == []
        assert scheduler.feed([Timer("c3", "nudge", soon(0.05))]) == 0, "a standby takes nothing"
        scheduler.apply([Timer("c4", "nudge", soon(0.05))], [])
        await asyncio.sleep(0.3)
        assert [t.id for t in fired] == ["c1:nudge"]
        scheduler.lead()
        assert scheduler.feed(store) == 2
    finally:
        scheduler.shutdown()
