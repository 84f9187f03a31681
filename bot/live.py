"""Live updates for open console pages: every commit of this process names its
conversation to each subscriber (the pages reload their live part), again a
moment later when the sender has delivered what the commit queued."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from dialogs.model import Commit

#: the sender usually delivers within this after a commit
SETTLE_SECONDS = 1.0
QUEUE_SIZE = 256


class LiveHub:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[str]] = set()
        self._later: set[asyncio.TimerHandle] = set()

    async def on_commit(self, change: Commit) -> None:
        self.publish(change.conversation.id)
        loop = asyncio.get_running_loop()
        handle = loop.call_later(SETTLE_SECONDS, self._again, change.conversation.id)
        self._later.add(handle)

    def _again(self, conversation_id: str) -> None:
        self._later = {h for h in self._later if not h.cancelled() and h.when() > asyncio.get_running_loop().time()}
        self.publish(conversation_id)

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

    def close(self) -> None:
        for handle in self._later:
            handle.cancel()
        self._later.clear()
