"""The agents' desk plumbing: which forum topic belongs to which conversation
(kept durably in the Store's bindings, so it works on SQLite and Redis alike),
reminders already posted, and a paced call queue for the agents' group
(Telegram allows a group about 20 messages a minute) that honours 429s."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError

from bot.ratelimit import TokenBucket
from dialogs.policy import Policy
from dialogs.ports import Store

log = logging.getLogger(__name__)
T = TypeVar("T")
#: binding "channels" used by the desk (never a buyer channel name)
TOPIC_TO_CONVERSATION = "agent_topic"
CONVERSATION_TO_TOPIC = "agent_topic_of"
#: one-off facts ("card posted for this hand-off", "reminded of this breach")
ONCE = "agent_once"


class TopicMap:
    """conversation <-> (group, thread) through `Store.bind`/`bound`: the most
    recently bound topic comes first, so a recreated topic replaces the old."""

    def __init__(self, store: Store, chat_id: int) -> None:
        self.store, self.chat_id = store, chat_id

    async def put(self, conversation_id: str, thread_id: int) -> None:
        address = f"{self.chat_id}:{thread_id}"
        await self.store.bind(TOPIC_TO_CONVERSATION, address, conversation_id)
        await self.store.bind(CONVERSATION_TO_TOPIC, conversation_id, address)

    async def topic_of(self, conversation_id: str) -> int | None:
        for address in await self.store.bound(CONVERSATION_TO_TOPIC, conversation_id):
            chat, _, thread = address.partition(":")
            if chat == str(self.chat_id) and thread.isdigit():
                return int(thread)
        return None

    async def conversation_for(self, thread_id: int) -> str | None:
        found = await self.store.bound(TOPIC_TO_CONVERSATION, f"{self.chat_id}:{thread_id}")
        return found[0] if found else None

    async def done(self, what: str, conversation_id: str, key: str) -> bool:
        """Whether `what` ("card", "reminder") was done for this `key` (a hand-off time)."""
        return key in await self.store.bound(ONCE, f"{what}:{conversation_id}")

    async def mark_done(self, what: str, conversation_id: str, key: str) -> None:
        await self.store.bind(ONCE, f"{what}:{conversation_id}", key)


class Pacer:
    """Serialises calls to the agents' group within its rate limits; retries
    after a 429 (waiting `retry_after`) and after network or server errors."""

    def __init__(self, per_minute: float = 20, per_second: float = 1.0, burst: float = 3, attempts: int = 5) -> None:
        self.minute = TokenBucket(per_minute / 60.0, per_minute)
        self.second = TokenBucket(per_second, burst)
        self.attempts = attempts
        self._lock = asyncio.Lock()

    @classmethod
    def from_policy(cls, policy: Policy) -> Pacer:
        section: dict[str, Any] = policy.raw.get("limits", {}).get("agents", {})
        return cls(
            per_minute=float(section.get("per_minute", 20)),
            per_second=float(section.get("per_second", 1.0)),
            burst=float(section.get("burst", 3)),
        )

    async def call(self, make: Callable[[], Awaitable[T]]) -> T:
        async with self._lock:
            for attempt in range(1, self.attempts + 1):
                await self._turn()
                try:
                    return await make()
                except TelegramRetryAfter as exc:
                    log.warning("agents' group: 429, waiting %s s", exc.retry_after)
                    await asyncio.sleep(float(exc.retry_after))
                    if attempt == self.attempts:
                        raise
                except (TelegramNetworkError, TelegramServerError, TimeoutError):
                    if attempt == self.attempts:
                        raise
                    await asyncio.sleep(min(0.5 * 2**attempt, 10.0))
            raise AssertionError("unreachable")

    async def _turn(self) -> None:
        while True:
            now = time.monotonic()
            wait = max(self.minute.delay(now), self.second.delay(now))
            if wait <= 0:
                self.minute.take(now)
                self.second.take(now)
                return
            await asyncio.sleep(wait)
