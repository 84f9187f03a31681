"""The Redis store's outbox: messages kept apart from their delivery state
(`bb:os`), claims for one delivery attempt, and finishing a delivery."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from redis.exceptions import ResponseError

from bot.storage import codec
from bot.storage.redis_batch import Coalescer
from bot.storage.redis_keys import CLAIM_OUTBOX, FINISH_OUTBOX, Keys
from dialogs.model import OutboxMessage, OutboxStatus, TranscriptEntry

PENDING = (OutboxStatus.PENDING, OutboxStatus.SENDING)
log = logging.getLogger(__name__)


class RedisOutbox:
    """The `dialogs.ports.Outbox` part of `RedisStore` (a mixin: it shares the
    store's client, coalescer and keys)."""

    _r: Any
    _co: Coalescer
    _k: Keys
    owner: str

    async def _upgrade_outbox(self) -> None:
        """Before the delivery fields had their own hash (`bb:os`) they lived
        in the message body; a pending message without its entry could not be
        claimed, so it gets one (taken from the body) at start-up."""
        k = self._k
        pending = await self._r.zrange(k.outbox_pending, 0, -1)
        if not pending:
            return
        states = await self._r.hmget(k.outbox_state, pending)
        missing = [message_id for message_id, state in zip(pending, states, strict=True) if state is None]
        if not missing:
            return
        bodies = await self._r.hmget(k.outbox, missing)
        async with self._r.pipeline(transaction=False) as pipe:
            for message_id, body in zip(missing, bodies, strict=True):
                if body is not None:
                    message = codec.decode_outbox(body.partition("|")[2])
                    pipe.hsetnx(k.outbox_state, message_id, codec.encode_delivery(message))
            await pipe.execute()
        log.info("outbox: %d pending message(s) of an older version brought up to date", len(missing))

    async def _outbox_many(self, ids: Sequence[str]) -> list[OutboxMessage]:
        if not ids:
            return []
        k = self._k
        bodies, states = await self._co.call_many([("HMGET", k.outbox, *ids), ("HMGET", k.outbox_state, *ids)])
        return [self._outbox(body, state) for body, state in zip(bodies, states, strict=True) if body is not None]

    @staticmethod
    def _outbox(body: str, state: str | None) -> OutboxMessage:
        message = codec.decode_outbox(body.partition("|")[2])
        return codec.apply_delivery(message, state) if state is not None else message

    async def pending_outbox(self, limit: int = 1000) -> list[OutboxMessage]:
        return await self._outbox_many(await self._r.zrange(self._k.outbox_pending, 0, limit - 1))

    async def get_outbox(self, message_id: str) -> OutboxMessage | None:
        found = await self._outbox_many([message_id])
        return found[0] if found else None

    async def update_outbox(self, message: OutboxMessage) -> None:
        await self.finish_outbox(message)

    async def finish_outbox(self, message: OutboxMessage, transcript: Sequence[TranscriptEntry] = ()) -> None:
        """One script: only the delivery fields change (they are kept apart from the body)."""
        k = self._k
        keys = [k.outbox, k.outbox_state, k.outbox_pending, k.outbox_channel_id, k.outbox_owner]
        keys += [k.transcript(entry.conversation_id) for entry in transcript]
        pending = "1" if message.status in PENDING else "0"
        args = [message.id, codec.encode_delivery(message), pending, message.channel_message_id or ""]
        args += [codec.encode_entry(entry) for entry in transcript]
        try:
            await self._co.call("EVAL", FINISH_OUTBOX, len(keys), *keys, *args)
        except ResponseError as exc:
            if "no outbox message" in str(exc):
                raise KeyError(f"no outbox message {message.id!r}") from None
            raise

    async def claim_outbox(self, message_id: str) -> OutboxMessage | None:
        # one script: a message is delivered by one sender, the live process that claimed it
        k = self._k
        keys = [k.outbox_state, k.outbox, k.outbox_owner]
        found = await self._co.call("EVAL", CLAIM_OUTBOX, 3, *keys, message_id, self.owner, k.presence)
        if not found:
            return None
        body, state = found
        return self._outbox(body, state)

    async def outbox_for(self, conversation_id: str) -> list[OutboxMessage]:
        return await self._outbox_many(await self._r.lrange(self._k.outbox_of(conversation_id), 0, -1))

    async def find_outbox_by_channel_id(self, channel_message_id: str) -> OutboxMessage | None:
        message_id = await self._co.call("HGET", self._k.outbox_channel_id, channel_message_id)
        return await self.get_outbox(message_id) if message_id else None
