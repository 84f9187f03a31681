"""The Redis store's records besides conversations and the outbox: timers,
transcripts, link tokens and bindings, seller tasks."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.storage import codec
from bot.storage.redis_batch import Coalescer
from bot.storage.redis_keys import SEP, Keys
from dialogs.model import Timer, TranscriptEntry

#: timers read per round trip by `timers_due` (decoding a page holds the loop: ~2 ms for 500)
DUE_PAGE = 500


class RedisRecords:
    """Part of `RedisStore` (a mixin: it shares the store's client, coalescer and keys)."""

    _r: Any
    _co: Coalescer
    _k: Keys

    # -- Follow-ups ----------------------------------------------------------

    async def timers(self) -> list[Timer]:
        found = await self._r.zrange(self._k.timers, 0, -1, withscores=True)
        timers = []
        for member, score in found:
            conversation_id, _, name = member.partition(SEP)
            timers.append(Timer(conversation_id, name, codec.from_micros(int(score))))
        return timers

    async def timers_due(self, until: datetime) -> list[Timer]:
        """Pending timers due by `until`, soonest first, read a page at a
        time (the loop serves others between pages)."""
        timers: list[Timer] = []
        last = codec.to_micros(until)
        while True:
            found = await self._co.call(
                "ZRANGEBYSCORE", self._k.timers, "-inf", last, "WITHSCORES", "LIMIT", len(timers), DUE_PAGE
            )
            for member, score in found:  # (member, score as float: exact below 2**53 us)
                conversation_id, _, name = member.partition(SEP)
                timers.append(Timer(conversation_id, name, codec.from_micros(int(score))))
            if len(found) < DUE_PAGE:
                return timers
            await asyncio.sleep(0)

    async def count_timers(self) -> int:
        found: int = await self._co.call("ZCARD", self._k.timers)
        return found

    async def timers_for(self, conversation_id: str) -> list[Timer]:
        found = await self._r.hgetall(self._k.extra(conversation_id))
        timers = [
            Timer(conversation_id, field[2:], codec.from_micros(int(value)))
            for field, value in found.items()
            if field.startswith("t:")
        ]
        return sorted(timers, key=lambda t: (t.due_at, t.name))

    async def get_timer(self, conversation_id: str, name: str) -> Timer | None:
        due = await self._r.hget(self._k.extra(conversation_id), f"t:{name}")
        return Timer(conversation_id, name, codec.from_micros(int(due))) if due is not None else None

    # -- Transcript ----------------------------------------------------------

    def _append(self, pipe: Any, entries: Sequence[TranscriptEntry]) -> None:
        by_conversation: dict[str, list[str]] = {}
        for entry in entries:
            by_conversation.setdefault(entry.conversation_id, []).append(codec.encode_entry(entry))
        for conversation_id, texts in by_conversation.items():
            pipe.rpush(self._k.transcript(conversation_id), *texts)

    async def append_transcript(self, entries: Sequence[TranscriptEntry]) -> None:
        async with self._r.pipeline(transaction=True) as pipe:
            self._append(pipe, entries)
            await pipe.execute()

    async def transcript(self, conversation_id: str, after: int = 0) -> list[tuple[int, TranscriptEntry]]:
        found = await self._r.lrange(self._k.transcript(conversation_id), max(after, 0), -1)
        start = max(after, 0) + 1
        return [(start + i, codec.decode_entry(conversation_id, text)) for i, text in enumerate(found)]

    # -- Bindings ------------------------------------------------------------

    async def put_link_token(self, token: str, order_id: str) -> None:
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.hset(self._k.tokens, token, order_id)
            pipe.hset(self._k.order_tokens, order_id, token)
            await pipe.execute()

    async def order_for_token(self, token: str) -> str | None:
        found: str | None = await self._co.call("HGET", self._k.tokens, token)
        return found

    async def token_for_order(self, order_id: str) -> str | None:
        found: str | None = await self._r.hget(self._k.order_tokens, order_id)
        return found

    async def bind(self, channel: str, address: str, conversation_id: str) -> None:
        async with self._r.pipeline(transaction=True) as pipe:
            self._bind(pipe, channel, address, conversation_id)
            await pipe.execute()

    def _bind(self, pipe: Any, channel: str, address: str, conversation_id: str) -> None:
        key = self._k.bindings(channel, address)
        pipe.lrem(key, 0, conversation_id)
        pipe.lpush(key, conversation_id)

    async def bound(self, channel: str, address: str) -> list[str]:
        found: list[str] = await self._co.call("LRANGE", self._k.bindings(channel, address), 0, -1)
        return found

    # -- Tasks ---------------------------------------------------------------

    async def tasks(self) -> list[dict[str, Any]]:
        return [codec.loads(text) for text in await self._r.lrange(self._k.tasks, 0, -1)]
