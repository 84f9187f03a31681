"""Live updates across processes: several `buyerbot run` on one Redis each serve console pages,
and a conversation changed by one process must wake the pages open on every other. The
conversation ids go through a Redis pub/sub channel (the ids of 50 ms in one message, a line
each); every process (the publisher too) hands what arrives to its own `LiveHub`. A nudge is
only a nudge: if Redis is briefly away, a page misses it and shows the change at its next
update or reload; nothing of the conversation is lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

CHANNEL = "buyerbot:live"
RETRY_SECONDS = 1.0
MAX_ID = 256  # a conversation id is short; anything longer on the channel is not ours


class RedisRelay:
    def __init__(self, url: str) -> None:
        self._client: Redis = Redis.from_url(url, socket_connect_timeout=5, health_check_interval=15)

    async def publish(self, conversation_ids: list[str]) -> None:
        """One message for several ids (a line each)."""
        with contextlib.suppress(RedisError, OSError):  # a missed nudge, nothing more
            await self._client.publish(CHANNEL, "\n".join(conversation_ids))

    async def run(self, deliver: Callable[[str], None]) -> None:
        """Hand every id published on the channel to `deliver`, resubscribing after a lost connection."""
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                async for message in pubsub.listen():
                    data = message.get("data")
                    if isinstance(data, bytes):
                        for line in data.decode("utf-8", "replace").splitlines():
                            if 0 < len(line) <= MAX_ID:
                                deliver(line)
            except (RedisError, OSError) as exc:
                log.info("live updates across processes paused (%s); retrying", exc)
                await asyncio.sleep(RETRY_SECONDS)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()

    async def close(self) -> None:
        await self._client.aclose()
