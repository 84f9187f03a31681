"""Redis store on `redis.asyncio`: a commit is one MULTI/EXEC round trip, a load
one GET; per-conversation locks hold across processes (SET NX PX + token)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from bot.storage import codec
from bot.storage.locks import LocalLocks
from bot.storage.redis_keys import ACCEPT, ADD_OUTBOX, LINK_TOKEN, RELEASE, SAVE_KEEP_ORDER, SEP, Keys
from dialogs.model import (
    Commit,
    Conversation,
    Inbound,
    Order,
    OutboxMessage,
    OutboxStatus,
    Timer,
    TranscriptEntry,
)
from dialogs.ports import Loaded

PENDING = (OutboxStatus.PENDING, OutboxStatus.SENDING)
#: connections per store (process); more concurrent callers wait for one
MAX_CONNECTIONS = 64
log = logging.getLogger(__name__)


class StoreUnavailable(ConnectionError):
    """The storage backend cannot be reached."""


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class RedisStore:
    """The `dialogs.ports.Store` on Redis (shared by several processes)."""

    def __init__(
        self, client: aioredis.Redis, url: str, prefix: str, lock_ttl: float = 30.0, timeout: float = 2.0
    ) -> None:
        # redis-py's types do not know decode_responses=True: every reply is str
        self._r: Any = client
        self._timeout = timeout
        self._k = Keys(prefix)
        self._local = LocalLocks()
        self._lock_ttl_ms = int(lock_ttl * 1000)
        self._accept = client.register_script(ACCEPT)
        self._release = client.register_script(RELEASE)
        self._closed = False
        #: reopens the same data with `open_store`
        self.url = url
        self.prefix = prefix

    @classmethod
    async def open(cls, url: str, prefix: str | None = None, connect_timeout: float = 1.5) -> RedisStore:
        """Connects lazily; call `ping()` to fail fast. `?prefix=` in the URL sets the key prefix."""
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        from_url = [value for key, value in query if key == "prefix"]
        rest = urlunsplit(parts._replace(query=urlencode([(k, v) for k, v in query if k != "prefix"])))
        prefix = prefix if prefix is not None else (from_url[-1] if from_url else "bb:")
        # bounded, and a burst of callers waits for a free connection instead
        # of failing with MaxConnectionsError (the default pool's behaviour)
        pool = aioredis.BlockingConnectionPool.from_url(
            rest,
            max_connections=MAX_CONNECTIONS,
            timeout=30.0,
            decode_responses=True,
            socket_connect_timeout=connect_timeout,
            socket_timeout=30.0,
            # a commit must never be silently replayed; callers retry whole steps
            retry=Retry(NoBackoff(), 0),
        )
        return cls(aioredis.Redis.from_pool(pool), url, prefix, timeout=connect_timeout)

    async def ping(self) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await self._r.ping()
        except (RedisError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"Redis at {_redact(self.url)} is unreachable: {exc!r}") from exc

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._r.aclose()

    # -- Inbox ---------------------------------------------------------------

    async def accept(self, inbound: Inbound) -> bool:
        k = self._k
        keys = [k.extra(inbound.conversation_id), k.inbox_seq, k.inbox_queue, k.inbox_data]
        member = f"{inbound.conversation_id}{SEP}{inbound.source_id}"
        args = [inbound.source_id, member, codec.encode_inbound(inbound)]
        return bool(await self._accept(keys=keys, args=args))

    async def pending_inbound(self, limit: int = 1000) -> list[Inbound]:
        members = await self._r.zrange(self._k.inbox_queue, 0, limit - 1)
        if not members:
            return []
        found = await self._r.hmget(self._k.inbox_data, members)
        return [codec.decode_inbound(text) for text in found if text is not None]

    # -- Conversations -------------------------------------------------------

    async def load(self, conversation_id: str) -> tuple[Conversation | None, Order | None]:
        return self._decode(await self._r.get(self._k.conversation(conversation_id)))

    @staticmethod
    def _decode(stored: str | None) -> tuple[Conversation | None, Order | None]:
        if stored is None:
            return None, None
        conv, _, order = stored.partition("\n")
        return codec.decode_conversation(conv), codec.decode_order(order) if order else None

    async def load_many(self, wanted: Sequence[tuple[str, str | None]]) -> list[Loaded]:
        wanted = list(wanted)
        async with self._r.pipeline(transaction=False) as pipe:
            for conversation_id, name in wanted:
                pipe.get(self._k.conversation(conversation_id))
                if name is not None:
                    pipe.hget(self._k.extra(conversation_id), f"t:{name}")
            found = iter(await pipe.execute())
        loaded: list[Loaded] = []
        for conversation_id, name in wanted:
            conv, order = self._decode(next(found))
            timer = None
            if name is not None and (due := next(found)) is not None:
                timer = Timer(conversation_id, name, codec.from_micros(int(due)))
            loaded.append((conv, order, timer))
        return loaded

    async def commit(self, change: Commit) -> None:
        async with self._r.pipeline(transaction=True) as pipe:
            self._queue_commit(pipe, change)
            await pipe.execute()

    async def commit_many(self, changes: Sequence[Commit]) -> None:
        async with self._r.pipeline(transaction=True) as pipe:
            for change in changes:
                self._queue_commit(pipe, change)
            await pipe.execute()

    def _queue_commit(self, pipe: Any, change: Commit) -> None:
        """Queue the writes of `change` on a MULTI pipeline."""
        k, conv = self._k, change.conversation
        key, extra = k.conversation(conv.id), k.extra(conv.id)
        conv_json = codec.encode_conversation(conv)
        # processed: remembered for dedupe (and gone from the pending inbox below)
        fields: dict[str, Any] = {f"s:{change.inbound_source_id}": ""}
        if change.order is not None:
            pipe.set(key, f"{conv_json}\n{codec.encode_order(change.order)}")
        else:
            pipe.eval(SAVE_KEEP_ORDER, 1, key, conv_json)
        pipe.sadd(k.conversations, conv.id)
        if change.timers_cancelled:
            pipe.hdel(extra, *[f"t:{name}" for name in change.timers_cancelled])
            pipe.zrem(k.timers, *[f"{conv.id}{SEP}{name}" for name in change.timers_cancelled])
        for timer in change.timers_set:
            due = codec.to_micros(timer.due_at)
            if timer.conversation_id == conv.id:
                fields[f"t:{timer.name}"] = due
            else:
                pipe.hset(k.extra(timer.conversation_id), f"t:{timer.name}", due)
            pipe.zadd(k.timers, {f"{timer.conversation_id}{SEP}{timer.name}": due})
        pipe.hset(extra, mapping=fields)
        if change.outbox:
            self._add_outbox(pipe, change.outbox)
        self._append(pipe, change.transcript)
        if change.tasks:
            pipe.rpush(k.tasks, *[codec.dumps(task) for task in change.tasks])
        if change.bind and conv.channel and conv.address:
            self._bind(pipe, conv.channel, conv.address, conv.id)
        if change.link_token is not None:
            order_id = change.order.order_id if change.order is not None else conv.order_id
            pipe.eval(LINK_TOKEN, 2, k.tokens, k.order_tokens, change.link_token, order_id)
        member = f"{conv.id}{SEP}{change.inbound_source_id}"
        pipe.zrem(k.inbox_queue, member)
        pipe.hdel(k.inbox_data, member)

    def _add_outbox(self, pipe: Any, messages: Sequence[OutboxMessage]) -> None:
        k = self._k
        keys = [k.outbox, k.outbox_seq, k.outbox_pending, k.outbox_channel_id]
        args: list[Any] = []
        for m in messages:
            keys.append(k.outbox_of(m.conversation_id))
            pending = "1" if m.status in PENDING else "0"
            args += [m.id, codec.encode_outbox(m), pending, m.channel_message_id or ""]
        # plain EVAL: EVALSHA inside MULTI would cost a SCRIPT EXISTS round trip
        pipe.eval(ADD_OUTBOX, len(keys), *keys, *args)

    @asynccontextmanager
    async def lock(self, conversation_id: str) -> AsyncIterator[None]:
        async with self._local.hold(conversation_id):
            key, token = self._k.lock(conversation_id), secrets.token_hex(8)
            delay = 0.002
            while not await self._r.set(key, token, nx=True, px=self._lock_ttl_ms):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)
            try:
                yield
            finally:
                try:
                    await self._release(keys=[key], args=[token])
                except (RedisError, OSError) as exc:  # it expires on its own; keep the real error
                    log.warning("could not release %s (expires in %d ms): %r", key, self._lock_ttl_ms, exc)

    @asynccontextmanager
    async def lock_many(self, conversation_ids: Sequence[str]) -> AsyncIterator[list[str]]:
        async with self._local.hold_free(conversation_ids) as free:
            taken: list[tuple[str, str, str]] = []
            try:
                if free:
                    tried = [(cid, self._k.lock(cid), secrets.token_hex(8)) for cid in free]
                    async with self._r.pipeline(transaction=False) as pipe:
                        for _, key, token in tried:
                            pipe.set(key, token, nx=True, px=self._lock_ttl_ms)
                        got = await pipe.execute()
                    taken = [t for t, ok in zip(tried, got, strict=True) if ok]
                yield [cid for cid, _, _ in taken]
            finally:
                if taken:
                    try:
                        async with self._r.pipeline(transaction=False) as pipe:
                            for _, key, token in taken:
                                pipe.eval(RELEASE, 1, key, token)
                            await pipe.execute()
                    except (RedisError, OSError) as exc:  # they expire on their own
                        ttl = self._lock_ttl_ms
                        log.warning("could not release %d locks (expire in %d ms): %r", len(taken), ttl, exc)

    async def conversations(self) -> list[Conversation]:
        ids = sorted(await self._r.smembers(self._k.conversations))
        async with self._r.pipeline(transaction=False) as pipe:
            for conversation_id in ids:
                pipe.get(self._k.conversation(conversation_id))
            found = await pipe.execute()
        return [conv for conv, _ in map(self._decode, found) if conv is not None]

    # -- Outbox --------------------------------------------------------------

    async def _outbox_many(self, ids: Sequence[str]) -> list[OutboxMessage]:
        if not ids:
            return []
        found = await self._r.hmget(self._k.outbox, list(ids))
        return [codec.decode_outbox(text.partition("|")[2]) for text in found if text is not None]

    async def pending_outbox(self, limit: int = 1000) -> list[OutboxMessage]:
        return await self._outbox_many(await self._r.zrange(self._k.outbox_pending, 0, limit - 1))

    async def get_outbox(self, message_id: str) -> OutboxMessage | None:
        found = await self._outbox_many([message_id])
        return found[0] if found else None

    async def update_outbox(self, message: OutboxMessage) -> None:
        await self.finish_outbox(message)

    async def finish_outbox(self, message: OutboxMessage, transcript: Sequence[TranscriptEntry] = ()) -> None:
        k = self._k
        stored = await self._r.hget(k.outbox, message.id)
        if stored is None:
            raise KeyError(f"no outbox message {message.id!r}")
        seq, _, text = stored.partition("|")
        merged = codec.merge_outbox(codec.decode_outbox(text), message)
        async with self._r.pipeline(transaction=True) as pipe:
            self._write_outbox(pipe, seq, merged)
            self._append(pipe, transcript)
            await pipe.execute()

    def _write_outbox(self, pipe: Any, seq: str, merged: OutboxMessage) -> None:
        k = self._k
        pipe.hset(k.outbox, merged.id, f"{seq}|{codec.encode_outbox(merged)}")
        if merged.status in PENDING:
            pipe.zadd(k.outbox_pending, {merged.id: int(seq)})
        else:
            pipe.zrem(k.outbox_pending, merged.id)
        if merged.channel_message_id:
            pipe.hset(k.outbox_channel_id, merged.channel_message_id, merged.id)

    async def claim_outbox(self, message_id: str) -> OutboxMessage | None:
        # read, then write in MULTI, like update_outbox: a message is delivered by one sender
        stored = await self._r.hget(self._k.outbox, message_id)
        if stored is None:
            return None
        seq, _, text = stored.partition("|")
        message = codec.decode_outbox(text)
        if message.status not in PENDING:
            return None
        message.status, message.attempts = OutboxStatus.SENDING, message.attempts + 1
        async with self._r.pipeline(transaction=True) as pipe:
            self._write_outbox(pipe, seq, message)
            await pipe.execute()
        return message

    async def outbox_for(self, conversation_id: str) -> list[OutboxMessage]:
        return await self._outbox_many(await self._r.lrange(self._k.outbox_of(conversation_id), 0, -1))

    async def find_outbox_by_channel_id(self, channel_message_id: str) -> OutboxMessage | None:
        message_id = await self._r.hget(self._k.outbox_channel_id, channel_message_id)
        return await self.get_outbox(message_id) if message_id else None

    # -- Follow-ups ----------------------------------------------------------

    async def timers(self) -> list[Timer]:
        found = await self._r.zrange(self._k.timers, 0, -1, withscores=True)
        timers = []
        for member, score in found:
            conversation_id, _, name = member.partition(SEP)
            timers.append(Timer(conversation_id, name, codec.from_micros(int(score))))
        return timers

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
        found: str | None = await self._r.hget(self._k.tokens, token)
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
        found: list[str] = await self._r.lrange(self._k.bindings(channel, address), 0, -1)
        return found

    # -- Tasks ---------------------------------------------------------------

    async def tasks(self) -> list[dict[str, Any]]:
        return [codec.loads(text) for text in await self._r.lrange(self._k.tasks, 0, -1)]
