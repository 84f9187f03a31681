"""Several processes on one Redis, each played by its own `RedisStore` on the
same data: the scheduler lease and its fencing, who owns accepted inputs and
outbox messages and who takes them over, shared rate limits, timers due."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.ratelimit import ChannelLimits, LocalLimits
from bot.storage import open_store
from bot.storage.redis import RedisStore
from dialogs.model import OutboxStatus, Timer
from dialogs.ports import FencedOut, Store
from tests.contract.records import T0, commit, inbound, message

only_redis = pytest.mark.parametrize("store", ["redis"], indirect=True)
TTL = 0.5


@pytest.fixture
async def two(store: Store) -> AsyncIterator[tuple[RedisStore, RedisStore]]:
    """Processes a and b on the same Redis data, each with its presence."""
    assert isinstance(store, RedisStore)
    other = await open_store(store.url)
    assert isinstance(other, RedisStore)
    store.owner, other.owner = "host-a:8080", "host-b:8080"
    yield store, other
    await other.close()


@only_redis
async def test_one_lease_holder_at_a_time_and_a_standby_takes_it_once_it_lapses(
    two: tuple[RedisStore, RedisStore],
) -> None:
    a, b = two
    fence_a = await a.hold_lease(None, TTL)
    assert fence_a is not None and fence_a.startswith("host-a:8080|")
    assert await b.hold_lease(None, TTL) is None, "held by a"
    assert await a.hold_lease(fence_a, TTL) == fence_a, "renewed"
    await asyncio.sleep(TTL + 0.2)  # a died: nobody renewed
    fence_b = await b.hold_lease(None, TTL)
    assert fence_b is not None and fence_b != fence_a
    assert await a.hold_lease(fence_a, TTL) is None, "a's renewal finds the lease taken"
    await b.release_lease(fence_b)
    assert await a.hold_lease(None, TTL) not in (None, fence_a, fence_b), "released: free at once"


@only_redis
async def test_a_stale_leaders_follow_up_commit_is_refused_and_its_lock_released(
    two: tuple[RedisStore, RedisStore],
) -> None:
    a, b = two
    a.fencing = b.fencing = True
    a.fence = await a.hold_lease(None, TTL)
    await a.commit(commit("timer:c1:nudge:1", "c1"))  # the leader's follow-up goes in
    await asyncio.sleep(TTL + 0.2)
    b.fence = await b.hold_lease(None, TTL)  # a stalled; b leads now, a does not know yet
    change = commit("timer:c1:nudge:2", "c1", outbox=[message("m-stale", "c1")])
    with pytest.raises(FencedOut):
        await a.commit_many([change])
    assert await a.get_outbox("m-stale") is None, "nothing of it was written"
    async with a.lock("c1"):  # its lock was released with the refusal
        pass
    await a.commit(commit("buyer-said-hi", "c1"))  # other inputs are never fenced
    a.fence = None
    with pytest.raises(FencedOut):
        await a.commit(commit("timer:c1:offer:3", "c1"))
    await b.commit(commit("timer:c1:offer:3", "c1"))


@only_redis
async def test_inputs_of_a_process_that_is_gone_are_taken_over_once(two: tuple[RedisStore, RedisStore]) -> None:
    a, b = two
    await a.hold_lease(None, TTL)  # presence of a
    await b.hold_lease(None, TTL)
    await a.accept(inbound("e1", conversation_id="c1"))
    await b.accept(inbound("e2", conversation_id="c2"))
    assert await b.take_inbound(mine_too=False) == [], "a is alive"
    assert [i.source_id for i in await a.take_inbound(mine_too=True)] == ["e1"], "a restarted: its own"
    await asyncio.sleep(TTL + 0.2)  # both silent; b comes back, a does not
    await b.hold_lease(None, TTL)
    assert [i.source_id for i in await b.take_inbound(mine_too=False)] == ["e1"], "a is gone"
    assert await b.take_inbound(mine_too=False) == [], "taken once: b's own now"
    await b.commit(commit("e1", "c1"))
    await b.commit(commit("e2", "c2"))
    assert await b.take_inbound(mine_too=True) == [], "handled: nobody's"


@only_redis
async def test_messages_being_sent_belong_to_their_live_sender(two: tuple[RedisStore, RedisStore]) -> None:
    a, b = two
    await a.hold_lease(None, TTL)
    await b.hold_lease(None, TTL)
    await a.commit(commit("e1", "c1", outbox=[message("m1", "c1"), message("m2", "c1")]))
    claimed = await a.claim_outbox("m1")
    assert claimed is not None and claimed.status is OutboxStatus.SENDING
    assert await b.claim_outbox("m1") is None, "a sends it"
    assert await b.claim_outbox("m2") is None, "a committed it: a sends it"
    assert await b.take_outbox(mine_too=False) == [], "a is alive: nothing left behind"
    await asyncio.sleep(TTL + 0.2)
    await b.hold_lease(None, TTL)
    taken = {m.id: m.status for m in await b.take_outbox(mine_too=False)}
    assert taken == {"m1": OutboxStatus.SENDING, "m2": OutboxStatus.PENDING}, "cut off, and never tried"
    assert await b.claim_outbox("m1") is not None
    await a.hold_lease(None, TTL)  # a comes back: b is alive and holds them
    assert await a.claim_outbox("m2") is None
    sent = await b.claim_outbox("m2")
    assert sent is not None
    sent.status = OutboxStatus.SENT
    await b.finish_outbox(sent)
    assert "m2" not in {m.id for m in await a.take_outbox(mine_too=True)}, "sent: nobody's"


@only_redis
async def test_rate_limits_and_a_pause_are_shared(two: tuple[RedisStore, RedisStore]) -> None:
    a, b = two
    per = {"telegram": ChannelLimits(rate=20, per_chat_rate=1, per_chat_burst=1, per_group_rate=0.2)}
    la, lb = a.shared_limits(per), b.shared_limits(per)
    assert await la.reserve("telegram", "1") == (0.0, False)
    wait, everyone = await lb.reserve("telegram", "1")
    assert 0.5 < wait <= 1.0 and not everyone, "the chat's 1/s, across processes"
    assert await lb.reserve("telegram", "2") == (0.0, False), "the overall burst (20/s: 2 at once), shared"
    wait, everyone = await la.reserve("telegram", "3")
    assert everyone and 0 < wait <= 0.05, "the whole channel waits"
    await la.pause("telegram", 0.5)
    await asyncio.sleep(0.1)
    wait, everyone = await lb.reserve("telegram", "12")
    assert everyone and 0.3 < wait <= 0.4, "a 429 seen by a pauses b"
    await lb.pause("telegram", 0.1)
    assert (await la.reserve("telegram", "12"))[0] > 0.3, "a shorter pause never shortens a longer one"
    await asyncio.sleep(0.45)
    assert await la.reserve("telegram", "-100") == (0.0, False)
    await asyncio.sleep(1.1)
    wait, everyone = await lb.reserve("telegram", "-100")
    assert wait > 3 and not everyone, "a group's own, slower limit"


async def test_many_chats_reserved_at_once_as_one_by_one(store: Store) -> None:
    """The sender asks for several chats in one call (one round trip on Redis)."""
    per = {"telegram": ChannelLimits(rate=30, per_chat_rate=1, per_chat_burst=1)}
    limits = store.shared_limits(per) if isinstance(store, RedisStore) else LocalLimits(per)
    answers = await limits.reserve_many("telegram", ["1", "1", "2", "3", "4", "5"])
    assert answers[0] == (0.0, False)
    assert answers[1][0] > 0.5 and not answers[1][1], "the same chat again: its own 1/s"
    assert answers[2:4] == [(0.0, False)] * 2, "the overall burst (30/s: 3 at once)"
    assert all(everyone and 0 < wait <= 0.05 for wait, everyone in answers[4:]), "then the channel waits, all of it"
    assert await limits.reserve_many("telegram", []) == []


async def test_timers_due_reads_up_to_a_time_soonest_first(store: Store) -> None:
    for n, hours in enumerate([3, 1, 2, 30]):
        await store.commit(commit(f"e{n}", f"c{n}", timers_set=[Timer(f"c{n}", "nudge", T0 + timedelta(hours=hours))]))
    due = await store.timers_due(T0 + timedelta(hours=3))
    assert [t.conversation_id for t in due] == ["c1", "c2", "c0"]
    assert due[0] == Timer("c1", "nudge", T0 + timedelta(hours=1))
    assert await store.count_timers() == 4


@only_redis
async def test_a_restarted_process_takes_its_own_lease_back_at_once(two: tuple[RedisStore, RedisStore]) -> None:
    a, b = two
    before = await a.hold_lease(None, 10.0)
    assert before is not None
    again = await open_store(a.url)  # a restarted: same name, knows no token
    assert isinstance(again, RedisStore)
    again.owner = a.owner
    try:
        after = await again.hold_lease(None, 10.0)
        assert after is not None and after != before, "a new token: the old one's writes are fenced"
        assert await b.hold_lease(None, 10.0) is None
    finally:
        await again.close()
