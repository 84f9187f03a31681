"""Shared fixtures: a real redis-server for the session and `store`, a fresh
opened `Store` per test, parametrized over the SQLite and Redis backends."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import redis

from bot.storage import open_store
from dialogs.ports import Store
from tests.redis_server import RedisServer

pytest_plugins = ["tests.browser"]
BACKENDS = ["sqlite", "redis"]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.cleanup()


def fresh_store_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store: a new SQLite file, or an emptied Redis db with its own prefix."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'buyerbot.db'}"
    if backend == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        server.ensure_running()
        with redis.Redis.from_url(server.url) as client:
            client.flushdb()
        return f"{server.url}?prefix=t{uuid.uuid4().hex[:8]}:"
    raise ValueError(f"unknown store backend {backend!r}")


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Pick one backend with `@pytest.mark.parametrize("store", ["redis"], indirect=True)`.
    `store.url` reopens the same data."""
    opened = await open_store(fresh_store_url(request.param, request, tmp_path))
    yield opened
    await opened.close()


@pytest.fixture
async def reopen() -> AsyncIterator[Callable[[Store], Awaitable[Store]]]:
    """`await reopen(store)` closes `store` and opens its data again, like a restart."""
    opened: list[Store] = []

    async def again(current: Store) -> Store:
        await current.close()
        fresh = await open_store(current.url)  # type: ignore[attr-defined]
        opened.append(fresh)
        return fresh

    yield again
    for each in opened:
        await each.close()
