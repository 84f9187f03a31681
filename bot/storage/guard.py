"""Durable counters and short-lived facts for the doors' guards (binding
attempts per chat and per order, pending binding questions, message ids of
unbound senders). They live in the store's own database, so they survive a
restart and every process on the same store shares them."""

from __future__ import annotations

from typing import Protocol

from bot.config import Settings


class GuardStore(Protocol):
    async def hit(self, key: str, now: float, window: float) -> list[float]:
        """Record one event at `now`; the times of the events within `window` seconds, oldest first."""

    async def hits(self, key: str, now: float, window: float) -> list[float]: ...

    async def put(self, key: str, value: str, now: float, ttl: float) -> None: ...

    async def get(self, key: str, now: float) -> str | None: ...

    async def delete(self, key: str) -> None: ...

    async def first(self, key: str, now: float, ttl: float) -> bool:
        """True the first time `key` is seen within `ttl` seconds (set if absent)."""

    async def close(self) -> None: ...


def store_url_of(store: object, settings: Settings) -> str:
    """The URL the store was opened from (both backends keep it), else the setting."""
    url = getattr(store, "url", None)
    return url if isinstance(url, str) else settings.store_url


def open_guard(store_url: str) -> GuardStore:
    """Opens at once for SQLite; Redis connects on first use."""
    if store_url.startswith("sqlite:///"):
        from bot.storage.sqlite_guard import SqliteGuard

        return SqliteGuard(store_url[len("sqlite:///") :])
    from bot.storage.redis_guard import RedisGuard

    return RedisGuard(store_url)
