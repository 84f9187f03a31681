"""The scheduler lease between processes (each a `RedisStore` on the same
real Redis): one leader, a standby that takes over once the leader is gone,
and a leader that stands by the moment a renewal fails."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from bot.cluster import StoreLease
from bot.storage import open_store
from bot.storage.redis import RedisStore
from dialogs.ports import Store
from scheduler.leader import Leadership

pytestmark = pytest.mark.parametrize("store", ["redis"], indirect=True)
TTL, EVERY = 1.0, 0.2


class Process:
    """A process's leadership, recording what it was told."""

    def __init__(self, store: RedisStore, name: str) -> None:
        store.owner = name
        self.lease = StoreLease(store, ttl=TTL)
        self.failing = False
        self.events: list[str] = []
        self.leadership = Leadership(self, self._lead, self._lose, every=EVERY)

    async def hold(self, fence: str | None) -> str | None:
        if self.failing:
            raise ConnectionError("Redis unreachable")
        return await self.lease.hold(fence)

    async def release(self, fence: str) -> None:
        await self.lease.release(fence)

    async def _lead(self, fence: str) -> None:
        self.events.append("lead")

    async def _lose(self) -> None:
        self.events.append("stand by")


@pytest.fixture
async def pair(store: Store) -> AsyncIterator[tuple[Process, Process]]:
    assert isinstance(store, RedisStore)
    other = await open_store(store.url)
    assert isinstance(other, RedisStore)
    a, b = Process(store, "host:1"), Process(other, "host:2")
    yield a, b
    for p in (a, b):
        await p.leadership.stop()
    await other.close()


async def wait_for(condition: object, timeout: float) -> float:
    began = time.monotonic()
    while not condition():  # type: ignore[operator]
        assert time.monotonic() - began < timeout, "not within the time"
        await asyncio.sleep(0.02)
    return time.monotonic() - began


async def test_one_leads_and_a_standby_takes_over_once_the_leader_is_gone(pair: tuple[Process, Process]) -> None:
    a, b = pair
    await a.leadership.start()
    await b.leadership.start()
    assert (a.leadership.role, b.leadership.role) == ("leader", "standby")
    await asyncio.sleep(3 * EVERY)
    assert b.events == [] and a.events == ["lead"], "renewed, held"
    a.leadership._task.cancel()  # type: ignore[union-attr]  # a dies: nobody renews, nothing released
    took = await wait_for(lambda: b.leadership.role == "leader", TTL + 3 * EVERY)
    assert took > TTL / 2, "not before the lease lapsed"


async def test_a_leader_whose_renewal_fails_stands_by_at_once_then_leads_again(pair: tuple[Process, Process]) -> None:
    a, b = pair
    await a.leadership.start()
    await b.leadership.start()
    fence = a.leadership.fence
    a.failing = True
    await wait_for(lambda: a.leadership.role == "standby", 2 * EVERY + 0.1)
    assert a.events == ["lead", "stand by"]
    a.failing = False  # the store is back before the lease lapsed: still ours
    await wait_for(lambda: a.leadership.role == "leader", 2 * EVERY + 0.1)
    assert a.leadership.fence == fence and b.leadership.role == "standby"


async def test_a_leader_that_stops_hands_over_at_once(pair: tuple[Process, Process]) -> None:
    a, b = pair
    await a.leadership.start()
    await b.leadership.start()
    await a.leadership.stop()
    assert await wait_for(lambda: b.leadership.role == "leader", 2 * EVERY + 0.2) < TTL
