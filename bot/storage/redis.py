"""Redis store on `redis.asyncio`: a commit is one MULTI/EXEC round trip (that
also releases the conversation's lock), a locked load one pipeline; calls made
at the same time share round trips (`Coalescer`); per-conversation locks hold
across processes (SET NX PX + token)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from bot.ratelimit import ChannelLimits
from bot.storage import codec
from bot.storage.locks import LocalLocks
from bot.storage.redis_batch import Coalescer, pack_in_c
from bot.storage.redis_claims import RedisClaims
from bot.storage.redis_keys import (
    ACCEPT,
    COMMIT,
    RELEASE,
    SEP,
    TAKE_LOCK,
    Keys,
)
from bot.storage.redis_limits import RedisLimits
from bot.storage.redis_outbox import PENDING, RedisOutbox
from bot.storage.redis_records import RedisRecords
from dialogs.model import (
    Commit,
    Conversation,
    Inbound,
    Order,
    OutboxMessage,
    Timer,
)
from dialogs.ports import TIMER_SOURCE, FencedOut, Loaded

#: connections per store (process); more concurrent callers wait for one
MAX_CONNECTIONS = 64
#: longest wait for Redis to take or answer a round trip, seconds
SOCKET_TIMEOUT = 30.0
#: `commit_many` lets the loop run others after encoding this many changes
ENCODE_SLICE = 8
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


def _outbox_fields(m: OutboxMessage) -> tuple[str, str, bool, str, str]:
    """What a commit writes of a new outbox message: id, json, pending,
    channel message id ("" none), delivery state."""
    return m.id, codec.encode_outbox(m), m.status in PENDING, m.channel_message_id or "", codec.encode_delivery(m)


class RedisStore(RedisOutbox, RedisRecords, RedisClaims):
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
        #: concurrent single commands share round trips
        self._co = Coalescer(client)
        #: shared locks this process holds: conversation id -> (key, token, holding task)
        self._held: dict[str, tuple[str, str, asyncio.Task[Any] | None]] = {}
        self._closed = False
        self._instance = secrets.token_hex(8)
        #: this process, as owner of what it accepts and sends ("": no owners kept)
        self.owner = ""
        #: follow-ups' commits need the scheduler lease (`fencing`): the token we hold, if any
        self.fencing = False
        self.fence: str | None = None
        #: reopens the same data with `open_store`
        self.url = url
        self.prefix = prefix

    @classmethod
    async def open(
        cls, url: str, prefix: str | None = None, connect_timeout: float = 1.5, socket_timeout: float = SOCKET_TIMEOUT
    ) -> RedisStore:
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
            socket_timeout=socket_timeout,
            # a commit must never be silently replayed; callers retry whole steps
            retry=Retry(NoBackoff(), 0),
        )
        pack_in_c(pool)
        return cls(aioredis.Redis.from_pool(pool), url, prefix, timeout=connect_timeout)

    @property
    def _lock_token(self) -> str:
        """What this process's conversation locks hold. The same for all of
        them: within the process a conversation is held by one task at a
        time (`LocalLocks`), so a lock in Redis holding it and not held here
        is one whose SET's answer was lost (Redis restarting), or left by
        this process before a restart: taken over, not waited out."""
        return f"{self.owner}|lock" if self.owner else self._instance

    def shared_limits(self, limits: Mapping[str, ChannelLimits]) -> RedisLimits:
        """Rate limits shared by every process on this Redis."""
        return RedisLimits(self._co, self._k, limits)

    async def ping(self) -> None:
        """Raise if Redis is unreachable; then bring data of older versions up to date."""
        try:
            async with asyncio.timeout(self._timeout):
                await self._r.ping()
        except (RedisError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"Redis at {_redact(self.url)} is unreachable: {exc!r}") from exc
        await self._upgrade_outbox()

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._co.close()
            await self._r.aclose()

    # -- Inbox ---------------------------------------------------------------

    async def accept(self, inbound: Inbound) -> bool:
        k = self._k
        keys = [k.extra(inbound.conversation_id), k.inbox_seq, k.inbox_queue, k.inbox_data, k.inbox_owner]
        member = f"{inbound.conversation_id}{SEP}{inbound.source_id}"
        args = [inbound.source_id, member, codec.encode_inbound(inbound), self.owner]
        return bool(await self._co.call("EVAL", ACCEPT, len(keys), *keys, *args))

    async def pending_inbound(self, limit: int = 1000) -> list[Inbound]:
        members = await self._r.zrange(self._k.inbox_queue, 0, limit - 1)
        if not members:
            return []
        found = await self._r.hmget(self._k.inbox_data, members)
        return [codec.decode_inbound(text) for text in found if text is not None]

    # -- Conversations -------------------------------------------------------

    async def load(self, conversation_id: str) -> tuple[Conversation | None, Order | None]:
        return self._decode(await self._co.call("GET", self._k.conversation(conversation_id)))

    @staticmethod
    def _decode(stored: str | None) -> tuple[Conversation | None, Order | None]:
        if stored is None:
            return None, None
        conv, _, order = stored.partition("\n")
        return codec.decode_conversation(conv), codec.decode_order(order) if order else None

    def _load_commands(self, wanted: Sequence[tuple[str, str | None]]) -> list[tuple[Any, ...]]:
        commands: list[tuple[Any, ...]] = []
        for conversation_id, name in wanted:
            commands.append(("GET", self._k.conversation(conversation_id)))
            if name is not None:
                commands.append(("HGET", self._k.extra(conversation_id), f"t:{name}"))
        return commands

    def _loaded(self, wanted: Sequence[tuple[str, str | None]], replies: Sequence[Any]) -> list[Loaded]:
        """The replies to `_load_commands(wanted)` decoded."""
        found = iter(replies)
        loaded: list[Loaded] = []
        for conversation_id, name in wanted:
            stored = next(found)
            conv, order = self._decode(stored)
            timer = None
            if name is not None and (due := next(found)) is not None:
                timer = Timer(conversation_id, name, codec.from_micros(int(due)))
            loaded.append((conv, order, timer))
        return loaded

    async def load_many(self, wanted: Sequence[tuple[str, str | None]]) -> list[Loaded]:
        wanted = list(wanted)
        return self._loaded(wanted, await self._co.call_many(self._load_commands(wanted)))

    @asynccontextmanager
    async def load_locked(self, wanted: Sequence[tuple[str, str | None]]) -> AsyncIterator[dict[str, Loaded]]:
        """Each lock's SET NX and its conversation's reads go in one pipeline:
        a read after a SET NX that succeeded sees what the lock protects, the
        reads after one that failed are dropped."""
        ids = [conversation_id for conversation_id, _ in wanted]
        async with self._local.hold_free(ids) as free:
            taken: dict[str, Loaded] = {}
            try:
                if free:
                    free_ids = set(free)
                    tried = [
                        (cid, name, self._k.lock(cid), self._lock_token) for cid, name in wanted if cid in free_ids
                    ]
                    commands: list[tuple[Any, ...]] = []
                    for cid, name, key, token in tried:
                        commands.append(("EVAL", TAKE_LOCK, 1, key, token, self._lock_ttl_ms))
                        commands += self._load_commands([(cid, name)])
                    replies = iter(await self._co.call_many(commands))
                    for cid, name, key, token in tried:
                        got = next(replies)
                        reads = [next(replies) for _ in range(1 if name is None else 2)]
                        if got:
                            self._held[cid] = (key, token, asyncio.current_task())
                            taken[cid] = self._loaded([(cid, name)], reads)[0]
                yield taken
            finally:
                await self._release_held(list(taken))

    async def commit(self, change: Commit) -> None:
        await self.commit_many([change])

    async def commit_many(self, changes: Sequence[Commit]) -> None:
        """One COMMIT script per change, all in one MULTI/EXEC (shared with
        other callers' commits made at the same moment). Each script also
        releases the shared lock this process holds on its conversation:
        nothing is left to protect once written. A follow-up's commit made
        while fencing without the lease, or refused by the lease's fencing
        token (another process took it), raises `FencedOut`: nothing of the
        change was written (give follow-ups their own `commit_many`)."""
        commands = []
        # only the holder's own commit releases a lock
        mine = [c.conversation.id for c in changes if self._holds(c.conversation.id)]
        for n, change in enumerate(changes):
            if n and n % ENCODE_SLICE == 0:
                await asyncio.sleep(0)  # encoding a burst's batch must not hold the loop
            commands.append(self._commit_command(change, release=change.conversation.id in mine))
        try:
            replies = await self._co.transact(commands)
        finally:
            for conversation_id in mine:
                self._held.pop(conversation_id, None)
        if any(reply == 1 for reply in replies):
            raise FencedOut("a follow-up's commit refused: this process no longer holds the scheduler lease")

    def _holds(self, conversation_id: str) -> bool:
        held = self._held.get(conversation_id)
        return held is not None and held[2] is asyncio.current_task()

    def _commit_command(self, change: Commit, release: bool) -> tuple[Any, ...]:
        """The COMMIT script call writing `change` (see `redis_keys.COMMIT`);
        `release`: it also releases the conversation's lock that we hold
        (without, the lock key is named, with no token: left alone)."""
        k, conv = self._k, change.conversation
        binding = k.bindings(conv.channel, conv.address) if change.bind and conv.channel and conv.address else None
        lock_key, lock_token = self._held[conv.id][:2] if release else (k.lock(conv.id), "")
        fence = ""
        if self.fencing and change.inbound_source_id.startswith(TIMER_SOURCE):
            if self.fence is None:
                raise FencedOut("a follow-up's commit without the scheduler lease")
            fence = self.fence
        keys = k.commit_keys(conv.id, binding, lock_key)
        index = {keys[1]: 2}  # its own timers go to K[2]

        def key(name: str) -> int:
            if name not in index:
                keys.append(name)
                index[name] = len(keys)
            return index[name]

        value = codec.encode_conversation(conv)
        if change.order is not None:  # stored as one value: the conversation, a newline, the order
            value = f"{value}\n{codec.encode_order(change.order)}"
        order_id = change.order.order_id if change.order is not None else conv.order_id
        args: list[Any] = [
            conv.id, value, "1" if change.order is not None else "0",
            change.inbound_source_id, f"{conv.id}{SEP}{change.inbound_source_id}",
            change.link_token or "", order_id, "1" if binding else "0", lock_token,
            len(change.timers_cancelled), len(change.timers_set), len(change.outbox),
            len(change.transcript), len(change.tasks), fence, self.owner,
        ]  # fmt: skip
        args += change.timers_cancelled
        for timer in change.timers_set:
            member = f"{timer.conversation_id}{SEP}{timer.name}"
            args += [key(k.extra(timer.conversation_id)), member, f"t:{timer.name}", codec.to_micros(timer.due_at)]
        for m in change.outbox:
            message_id, body, pending, channel_id, delivery = _outbox_fields(m)
            args += [
                key(k.outbox_of(m.conversation_id)),
                message_id,
                body,
                "1" if pending else "0",
                channel_id,
                delivery,
            ]
        for entry in change.transcript:
            args += [key(k.transcript(entry.conversation_id)), codec.encode_entry(entry)]
        args += [codec.dumps(task) for task in change.tasks]
        # the coalescer sends it as EVALSHA (the text again after a NOSCRIPT)
        return ("EVAL", COMMIT, len(keys), *keys, *args)

    @asynccontextmanager
    async def lock(self, conversation_id: str) -> AsyncIterator[None]:
        async with self._local.hold(conversation_id):
            key, token = self._k.lock(conversation_id), self._lock_token
            delay = 0.002
            while not await self._co.call("EVAL", TAKE_LOCK, 1, key, token, self._lock_ttl_ms):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)
            self._held[conversation_id] = (key, token, asyncio.current_task())
            try:
                yield
            finally:
                await self._release_held([conversation_id])

    async def _release_held(self, conversation_ids: Sequence[str]) -> None:
        """Release those of these shared locks a commit has not released yet."""
        held = [self._held.pop(cid)[:2] for cid in conversation_ids if cid in self._held]
        if not held:
            return
        try:
            await self._co.call_many([("EVAL", RELEASE, 1, key, token) for key, token in held])
        except (RedisError, OSError) as exc:  # they expire on their own; keep the real error
            log.warning("could not release %d lock(s) (expire in %d ms): %r", len(held), self._lock_ttl_ms, exc)

    async def conversations(self) -> list[Conversation]:
        ids = sorted(await self._r.smembers(self._k.conversations))
        async with self._r.pipeline(transaction=False) as pipe:
            for conversation_id in ids:
                pipe.get(self._k.conversation(conversation_id))
            found = await pipe.execute()
        return [conv for conv, _ in map(self._decode, found) if conv is not None]
