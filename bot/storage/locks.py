"""In-process per-key asyncio locks, refcounted so idle keys are forgotten."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager


class LocalLocks:
    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    @asynccontextmanager
    async def hold_free(self, keys: Sequence[str]) -> AsyncIterator[list[str]]:
        """Take the locks of those `keys` nobody holds or waits for, at once
        and without waiting; yields the keys taken (no duplicates)."""
        taken: list[str] = []
        for key in keys:
            if key in self._locks:
                continue
            lock = asyncio.Lock()
            await lock.acquire()  # new and free: returns at once, without a round of the loop
            self._locks[key] = (lock, 1)
            taken.append(key)
        try:
            yield taken
        finally:
            for key in taken:
                lock, users = self._locks[key]
                lock.release()
                if users <= 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)
