"""Follow-ups prepared ahead (`Runtime.prepare_ahead`): decided a few seconds
before they are due, written at their due time only if nothing changed in
between. What a buyer must see is the same as without preparation: the
follow-up once, at its time, and nothing after a payment or a reply that
changed the conversation. Real stores (both backends), the real engine, a
virtual clock; the scheduler is stood in by the timers the runtime committed
(`FollowUpScheduler.upcoming` has its own tests), and the runtime's timer is
fired by hand at the instant a test chooses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import bot.runtime
from bot.runtime import PREPARE_VALID, Runtime
from bot.storage import open_store
from dialogs.catalog import all_dialogs
from dialogs.engine import DialogEngine
from dialogs.model import Inbound, OutboxMessage, Timer
from dialogs.policy import policy_from_dict
from dialogs.ports import Store, SystemClock
from scheduler.runtime import FollowUpScheduler
from tests.dialogs.helpers import T0, Clock  # T0: a Monday, no promotion

NUDGE = T0 + timedelta(hours=12)  # a returning buyer's first follow-up
POLICY = policy_from_dict({"quiet_hours": {"start": "00:00", "end": "00:00"}})


class Handed:
    """Stands in for the sender: what the runtime handed over, in order."""

    def __init__(self) -> None:
        self.messages: list[OutboxMessage] = []

    async def enqueue(self, messages: Iterable[OutboxMessage]) -> None:
        self.messages += list(messages)


class Bot:
    """A runtime on `store` whose follow-ups the test fires by hand."""

    def __init__(self, store: Store, prepare: bool) -> None:
        self.clock = Clock()
        self.store = store
        self.runtime = Runtime(store, DialogEngine(all_dialogs(), POLICY, self.clock), self.clock)
        self.handed = Handed()
        self.runtime.sender = self.handed  # type: ignore[assignment]
        self.timers: dict[str, Timer] = {}
        self.runtime.timer_sink = self._sink
        if prepare:
            self.runtime.upcoming = lambda until: [t for t in self.timers.values() if t.due_at <= until]
        self.n = 0

    def _sink(self, timers_set: list[Timer], cancelled: list[str]) -> None:
        for timer_id in cancelled:
            self.timers.pop(timer_id, None)
        self.timers.update({t.id: t for t in timers_set})

    async def submit(self, trigger: str, conversation_id: str = "O-1", **payload: Any) -> None:
        self.n += 1
        inbound = Inbound(conversation_id, trigger, payload, f"src-{self.n}", self.clock.now())
        assert await self.runtime.submit(inbound)
        await self.runtime.idle(10)

    async def placed(self, occurred_at: datetime | None = None, order_id: str = "O-1") -> None:
        buyer = {"id": "b", "name": "Ann", "language": "en", "country": "ES", "first_order": False}
        data = {
            "buyer": buyer,
            "items": [{"sku": "S", "title": "Lamp", "price": 20}],
            "total": {"amount": 20, "currency": "USD"},
        }
        await self.event("order.placed", data, occurred_at, order_id)
        await self.store.bind("webchat", "s" if order_id == "O-1" else f"s-{order_id}", order_id)

    async def event(
        self,
        kind: str,
        data: dict[str, Any] | None = None,
        occurred_at: datetime | None = None,
        order_id: str = "O-1",
    ) -> None:
        payload = {"type": kind, "order_id": order_id, "event_id": f"ev-{self.n}", "data": data or {}}
        occurred = occurred_at or self.clock.now()
        await self.submit("order_event", order_id, occurred_at=occurred.isoformat(), **payload)

    async def fire(self, timer: Timer) -> None:
        """The scheduler's hand-over of `timer`, at the clock's current time."""
        self.runtime.fire_timer(timer)
        await self.runtime.idle(10)

    def said(self) -> list[str]:
        return [m.template for m in self.handed.messages]


@pytest.fixture(autouse=True)
def no_background_preparer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the test calls `prepare_ahead` (its background tick would too)."""
    monkeypatch.setattr(bot.runtime, "PREPARE_TICK", 3600.0)


@pytest.fixture
async def oracle(store: Store, tmp_path: Path) -> AsyncIterator[Store]:
    """A second, empty store of the same backend: the same story without preparation."""
    from bot.storage.redis import RedisStore

    if isinstance(store, RedisStore):
        other = await open_store(f"{store.url.split('?')[0]}?prefix=oracle:")
    else:
        other = await open_store(f"sqlite:///{tmp_path / 'oracle.db'}")
    yield other
    await other.close()


async def started(store: Store, prepare: bool) -> Bot:
    bot_ = Bot(store, prepare)
    await bot_.runtime.start()
    await bot_.placed()
    return bot_


@asynccontextmanager
async def running(store: Store, prepare: bool) -> AsyncIterator[Bot]:
    """A bot on `store` with the order placed; closed afterwards."""
    b = await started(store, prepare)
    try:
        yield b
    finally:
        await b.runtime.close()


async def prepared_nudge(b: Bot, lead: float) -> Timer:
    """Prepare the order's nudge `lead` seconds before it is due."""
    (nudge,) = b.timers.values()
    assert nudge.due_at == NUDGE
    b.clock.current = NUDGE - timedelta(seconds=lead)
    assert await b.runtime.prepare_ahead() == 1
    return nudge


@asynccontextmanager
async def side_by_side(store: Store, oracle: Store, lead: float) -> AsyncIterator[tuple[Bot, Bot, Timer]]:
    """The same order on two bots, one preparing its nudge `lead` seconds
    before it is due (done here), one not."""
    async with running(store, prepare=True) as ahead, running(oracle, prepare=False) as plain:
        yield ahead, plain, await prepared_nudge(ahead, lead)


async def after(bot_: Bot) -> tuple[object, ...]:
    """What the buyer and the seller can see of O-1 afterwards."""
    conversation, order = await bot_.store.load("O-1")
    outbox = [(m.template, m.created_at, m.step) for m in await bot_.store.outbox_for("O-1")]
    timers = [(t.name, t.due_at) for t in await bot_.store.timers_for("O-1")]
    return conversation, order, outbox, timers, bot_.said()


async def test_a_prepared_follow_up_goes_out_once_as_it_would_have_anyway(store: Store, oracle: Store) -> None:
    async with side_by_side(store, oracle, lead=5) as (ahead, plain, nudge):
        assert ahead.runtime.prepared() == 1 and ahead.said() == [], "prepared, not sent"
        assert await ahead.runtime.prepare_ahead() == 0, "each follow-up is prepared once"
        for b in (ahead, plain):
            b.clock.current = NUDGE
            await b.fire(nudge)
        assert ahead.runtime.prepare_stats == {"prepared": 1, "used": 1, "refused": 0}
        assert ahead.said() == ["unpaid/nudge"]
        assert await after(ahead) == await after(plain)
        await ahead.fire(nudge)  # the same follow-up handed over again: nothing more
        assert ahead.said() == ["unpaid/nudge"]


async def test_a_payment_after_the_preparation_stops_the_follow_up_even_in_its_second(store: Store) -> None:
    async with running(store, prepare=True) as b:
        nudge = await prepared_nudge(b, lead=3)
        b.clock.current = NUDGE
        await b.event("order.paid")  # committed just before the timer's hand-over
        await b.fire(nudge)
        assert b.runtime.prepare_stats["refused"] == 1, "the prepared commit found the conversation changed"
        assert "unpaid/nudge" not in b.said()
        conversation, _ = await store.load("O-1")
        assert conversation is not None and conversation.state == "paid"
        assert await store.timers_for("O-1") == []


async def test_a_reply_after_the_preparation_gets_the_follow_up_decided_again(store: Store, oracle: Store) -> None:
    async with side_by_side(store, oracle, lead=8) as (ahead, plain, nudge):
        for b in (ahead, plain):
            b.clock.current = NUDGE - timedelta(seconds=2)
            await b.submit("buyer_message", text="is the lamp white?", channel="webchat", address="s")
            b.clock.current = NUDGE
            await b.fire(nudge)
        assert ahead.runtime.prepare_stats["refused"] == 1
        assert await after(ahead) == await after(plain)


async def test_a_follow_up_firing_behind_a_queued_reply_waits_for_it(store: Store, oracle: Store) -> None:
    """The reply is accepted and queued, not handled yet, when the timer
    fires: the follow-up goes after it, as it would without preparation."""
    async with side_by_side(store, oracle, lead=8) as (ahead, plain, nudge):
        for b in (ahead, plain):
            b.clock.current = NUDGE
            reply = {"text": "can you send it in blue?", "channel": "webchat", "address": "s"}
            assert await b.runtime.submit(Inbound("O-1", "buyer_message", reply, "msg-1", NUDGE))
            b.runtime.fire_timer(nudge)
            await b.runtime.idle(10)
        assert ahead.runtime.prepare_stats["refused"] == 1
        assert await after(ahead) == await after(plain)


async def test_follow_ups_firing_while_earlier_ones_are_being_handed_on_are_written(store: Store) -> None:
    """Each nudge fires in a hand-over of its own while the sender is still
    busy taking the earlier ones: every one is written and handed on."""
    async with running(store, prepare=True) as b:
        for order_id in ("O-2", "O-3", "O-4"):
            await b.placed(order_id=order_id)
        b.clock.current = NUDGE - timedelta(seconds=5)
        assert await b.runtime.prepare_ahead() == 4
        gate = asyncio.Event()
        take = b.handed.enqueue

        async def busy_sender(messages: Iterable[OutboxMessage]) -> None:
            await gate.wait()
            await take(messages)

        b.handed.enqueue = busy_sender  # type: ignore[method-assign]
        b.clock.current = NUDGE
        for nudge in sorted(b.timers.values(), key=lambda t: t.conversation_id):
            b.runtime.fire_timer(nudge)
            await asyncio.sleep(0.1)  # its write is done; its hand-on waits for the sender
        gate.set()
        await b.runtime.idle(10)
        assert sorted(m.conversation_id for m in b.handed.messages) == ["O-1", "O-2", "O-3", "O-4"]
        assert b.runtime.prepare_stats == {"prepared": 4, "used": 4, "refused": 0}


@pytest.mark.parametrize("prepare", [True, False], ids=["prepared", "not-prepared"])
async def test_a_follow_up_whose_write_answer_was_lost_still_goes_out_once(
    store: Store, prepare: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store wrote the follow-up, but its answer never came back (say a
    connection reset): the bot saw a failure and decides the follow-up
    again, which finds its timer gone and has nothing to say. The message
    already stored goes out all the same, once."""
    async with running(store, prepare=prepare) as b:
        nudge = await prepared_nudge(b, lead=5) if prepare else next(iter(b.timers.values()))
        write = "commit_prepared" if prepare else "commit"
        real = getattr(store, write)
        lost: list[bool] = []

        async def answer_lost(*args: Any) -> Any:
            result = await real(*args)
            if not lost:
                lost.append(True)
                raise ConnectionError("connection reset by peer")
            return result

        monkeypatch.setattr(store, write, answer_lost)
        b.clock.current = NUDGE
        await b.fire(nudge)
        assert lost, "the write went through and its answer was lost"
        await _until(lambda: b.said() != [], 5)  # not prepared: retried after 1 s
        await b.runtime.idle(10)
        assert b.said() == ["unpaid/nudge"]
        assert [m.template for m in await store.outbox_for("O-1")] == ["unpaid/nudge"]


async def test_a_prepared_follow_up_firing_long_after_its_time_is_decided_at_that_time(store: Store) -> None:
    async with running(store, prepare=True) as b:
        nudge = await prepared_nudge(b, lead=5)
        b.clock.current = late = NUDGE + PREPARE_VALID + timedelta(seconds=1)  # e.g. the loop was stuck
        await b.fire(nudge)
        assert b.runtime.prepare_stats["used"] == 0
        assert b.said() == ["unpaid/nudge"]
        assert b.handed.messages[0].created_at == late


async def test_only_follow_ups_due_soon_are_prepared(store: Store) -> None:
    async with running(store, prepare=True) as b:
        b.clock.current = NUDGE - timedelta(minutes=5)
        assert await b.runtime.prepare_ahead() == 0, "not due within PREPARE_AHEAD"
        b.clock.current = NUDGE - timedelta(seconds=0.2)
        assert await b.runtime.prepare_ahead() == 0, "too close: fires the usual way"


async def test_a_failed_preparation_leaves_the_follow_up_to_the_usual_way(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(store, prepare=True) as b:
        (nudge,) = b.timers.values()

        def broken(*args: object) -> None:
            raise RuntimeError("a bug in a dialog")

        monkeypatch.setattr(b.runtime.engine, "prepare", broken)
        b.clock.current = NUDGE - timedelta(seconds=5)
        assert await b.runtime.prepare_ahead() == 0
        b.clock.current = NUDGE
        await b.fire(nudge)
        assert b.said() == ["unpaid/nudge"]


async def test_the_scheduler_prepares_and_fires_a_follow_up_on_its_own(tmp_path: Path) -> None:
    """Wall clock, real scheduler and background preparer (a short tick)."""
    store = await open_store(f"sqlite:///{tmp_path / 'bot.db'}")
    b = Bot(store, prepare=False)
    b.clock = SystemClock()  # type: ignore[assignment]
    b.runtime.clock = b.runtime.engine.clock = b.clock
    scheduler = FollowUpScheduler(asyncio.get_running_loop(), b.runtime.fire_timer)
    b.runtime.timer_sink = scheduler.apply
    b.runtime.upcoming = scheduler.upcoming
    bot.runtime.PREPARE_TICK = 0.05  # type: ignore[misc]  # restored by the autouse fixture
    try:
        await b.runtime.start()
        scheduler.start([])
        # placed 12 h ago, less 1.5 s: its nudge is due in 1.5 s
        await b.placed(occurred_at=datetime.now(UTC) - timedelta(hours=12) + timedelta(seconds=1.5))
        (nudge,) = await store.timers_for("O-1")
        await _until(lambda: b.runtime.prepare_stats["prepared"] == 1, 5)
        assert b.said() == [], "prepared ahead, not sent"
        await _until(lambda: b.said() != [], 5)
        assert datetime.now(UTC) >= nudge.due_at
        assert b.said() == ["unpaid/nudge"]
        assert b.runtime.prepare_stats == {"prepared": 1, "used": 1, "refused": 0}
        assert b.handed.messages[0].created_at == nudge.due_at
    finally:
        scheduler.shutdown()
        await b.runtime.close()
        await store.close()


async def _until(condition: Any, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)
