"""The order-number path on each store backend: attempt limits kept in the
store (a restart or another process sees them), per chat and per order, and
the team told when an order's path closes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.api.events import OrderEvent, to_inbound
from bot.app import all_dialogs
from bot.channels.number_binding import BindingLimits, NumberBinding, second_fact_matches
from bot.config import ROOT
from bot.runtime import Runtime
from bot.storage.guard import GuardStore, open_guard
from dialogs.engine import DialogEngine
from dialogs.model import Buyer
from dialogs.policy import load_policy
from dialogs.ports import Store, SystemClock
from tests.e2e.process import placed_event

LIMITS = BindingLimits(chat_attempts=3, chat_window=3600, order_attempts=4, order_window=86400, order_lock=86400)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def runtime(store: Store) -> Runtime:
    clock = SystemClock()
    return Runtime(store, DialogEngine(all_dialogs(), load_policy(ROOT / "policy.toml"), clock), clock)


@pytest.fixture
async def guards(store: Store) -> AsyncIterator[list[GuardStore]]:
    opened: list[GuardStore] = []
    yield opened
    for guard in opened:
        await guard.close()


def binding(runtime: Runtime, guards: list[GuardStore], clock: Clock, channel: str = "telegram") -> NumberBinding:
    """A door's binding over its own connection to the store (as after a restart, or in another process)."""
    guards.append(open_guard(runtime.store.url))  # type: ignore[attr-defined]
    return NumberBinding(runtime, guards[-1], channel, LIMITS, clock)


async def place(runtime: Runtime, order_id: str, **buyer: object) -> None:
    event = OrderEvent.model_validate(placed_event(order_id, **buyer))
    await runtime.engine.handle(runtime.store, to_inbound(event, datetime.now(UTC)))


def test_the_second_fact_is_never_the_total() -> None:
    buyer = Buyer(id="b", phone="+34 600-111-2233", postal_code="SW1A 1AA")
    assert second_fact_matches(buyer, "2233") and second_fact_matches(buyer, "it's 2233")
    assert second_fact_matches(buyer, "sw1a1aa") and second_fact_matches(buyer, "SW1A 1AA")
    assert not second_fact_matches(buyer, "20.00") and not second_fact_matches(buyer, "1122")
    assert not second_fact_matches(Buyer(id="b"), "2233")  # nothing non-public known: never by number


async def test_failures_on_one_order_from_many_chats_close_it_durably_and_tell_the_team(
    runtime: Runtime, guards: list[GuardStore]
) -> None:
    await place(runtime, "N-1", phone="+34600112233")
    clock = Clock()
    first = binding(runtime, guards, clock)
    for chat in range(4):  # four chats, one wrong answer each: no chat reaches its own limit
        assert (await first.says(f"c{chat}", "N-1")).template == "common/ask_second_fact"
        failed = await first.says(f"c{chat}", "0000")
        assert failed.template == "common/binding_failed"
    restarted = binding(runtime, guards, clock)  # a new process on the same store
    closed = await restarted.says("honest", "N-1")  # even the buyer, with the right answer at hand
    assert closed.template == "common/binding_failed" and closed.context["locked"]
    assert await runtime.store.bound("telegram", "honest") == []
    pending = await runtime.store.pending_inbound()
    (told,) = [i for i in pending if i.trigger == "binding_locked"]
    await runtime.engine.handle(runtime.store, told)
    assert [t["kind"] for t in await runtime.store.tasks()].count("binding_locked") == 1
    clock.now += 86400 + 1  # the lock ends
    await restarted.says("honest", "N-1")
    await restarted.says("honest", "2233")
    (bound,) = [i for i in await runtime.store.pending_inbound() if i.trigger == "buyer_bound"]
    assert bound.payload["address"] == "honest" and bound.payload["via"] == "order_number"


async def test_a_chat_out_of_tries_stays_out_after_a_restart(runtime: Runtime, guards: list[GuardStore]) -> None:
    await place(runtime, "N-2", postal_code="75008")
    clock = Clock()
    door = binding(runtime, guards, clock, "whatsapp")
    for number in ("N-2", "NOPE-1", "N-2"):  # an unknown number costs a try like a known one
        await door.says("+4917000", number)
        await door.says("+4917000", "11111")
    again = binding(runtime, guards, clock, "whatsapp")
    refused = await again.says("+4917000", "N-2")
    assert refused.template == "common/binding_failed" and refused.context["locked"]
    clock.now += 3601
    assert (await again.says("+4917000", "N-2")).template == "common/ask_second_fact"
    assert (await again.says("+4917000", "75008")).context == {"bound": "N-2"}


async def test_unbound_message_ids_are_remembered_across_restarts(runtime: Runtime, guards: list[GuardStore]) -> None:
    guards.append(open_guard(runtime.store.url))  # type: ignore[attr-defined]
    assert await guards[-1].first("wa:seen:wamid.1", 1000.0, 60)
    guards.append(open_guard(runtime.store.url))  # type: ignore[attr-defined]
    assert not await guards[-1].first("wa:seen:wamid.1", 1001.0, 60)
    assert await guards[-1].first("wa:seen:wamid.1", 1061.0, 60)  # only within its time to live
