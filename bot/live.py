"""Live updates for open console pages: every commit names its conversation to
each subscriber (the pages reload their live part), again a moment later when
the sender has delivered what the commit queued. With several processes on one
Redis the names travel through a `RedisRelay`, so a page sees the commits of
every process, not only of the one that serves it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from typing import TYPE_CHECKING

from dialogs.model import Commit

if TYPE_CHECKING:
    from bot.live_relay import RedisRelay

#: the sender usually delivers within this after a commit
SETTLE_SECONDS = 1.0
QUEUE_SIZE = 256
#: ids bound for the relay wait this long and go together (a burst of commits is a few messages, not thousands)
RELAY_EVERY = 0.05
RELAY_CHUNK = 200


class LiveHub:
    def __init__(self, relay: RedisRelay | None = None) -> None:
        self._subscribers: set[asyncio.Queue[str]] = set()
        self._later: set[asyncio.TimerHandle] = set()
        self._relay = relay
        self._tasks: set[asyncio.Task[None]] = set()
        self._outgoing: set[str] = set()
        if relay is not None:
            self._spawn(relay.run(self.publish))

    async def on_commit(self, change: Commit) -> None:
        self._announce(change.conversation.id)
        loop = asyncio.get_running_loop()
        handle = loop.call_later(SETTLE_SECONDS, self._again, change.conversation.id)
        self._later.add(handle)

    def _again(self, conversation_id: str) -> None:
        self._later = {h for h in self._later if not h.cancelled() and h.when() > asyncio.get_running_loop().time()}
        self._announce(conversation_id)

    def _announce(self, conversation_id: str) -> None:
        """To this process's pages, or through the relay to every process's (this one's included)."""
        if self._relay is None:
            self.publish(conversation_id)
            return
        if not self._outgoing:
            self._later.add(asyncio.get_running_loop().call_later(RELAY_EVERY, self._flush))
        self._outgoing.add(conversation_id)

    def _flush(self) -> None:
        ids, self._outgoing = sorted(self._outgoing), set()
        if self._relay is not None:
            for start in range(0, len(ids), RELAY_CHUNK):
                self._spawn(self._relay.publish(ids[start : start + RELAY_CHUNK]))

    def _spawn(self, work: Coroutine[None, None, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def publish(self, conversation_id: str) -> None:
        for queue in list(self._subscribers):
            if queue.full():
                continue  # a stalled page misses updates, never the bot
            queue.put_nowait(conversation_id)

    async def subscribe(self, heartbeat: float = 15.0) -> AsyncIterator[str]:
        """Conversation ids as they change; "" as a heartbeat."""
        queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers.add(queue)
        try:
            while True:
                try:
                    yield await asyncio.wait_for(queue.get(), heartbeat)
                except TimeoutError:
                    yield ""
        finally:
            self._subscribers.discard(queue)

    async def close(self) -> None:
        for handle in self._later:
            handle.cancel()
        self._later.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._relay is not None:
            await self._relay.close()
