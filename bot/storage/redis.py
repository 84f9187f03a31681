"""Redis store on `redis.asyncio`: a commit is one MULTI/EXEC round trip (that
also releases the conversation's lock), a locked load one pipeline; calls made
at the same time share round trips (`Coalescer`); per-conversation locks hold
across processes (SET NX PX + token)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError

from bot.storage import codec, own_prepared
from bot.storage.locks import LocalLocks
from bot.storage.redis_batch import Coalescer, Command, exchange, pack_in_c
from bot.storage.redis_keys import (
    ACCEPT,
    CLAIM_OUTBOX,
    COMMIT,
    FINISH_OUTBOX,
    RELEASE,
    SEP,
    Keys,
)
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
#: longest wait for Redis to take or answer a round trip, seconds
SOCKET_TIMEOUT = 30.0
#: `commit_many` lets the loop run others after encoding this many changes
ENCODE_SLICE = 16
#: tries of a write of prepared commits that another client's write to one of
#: their conversations (or locks) cut short; then they are refused
PREPARED_TRIES = 3
#: prepared commits per transaction: Redis (7.0) checks each key WATCHed
#: against all those the connection watches already, so a transaction's
#: check costs the square of its size (1,024 commits: ~60 % of their write)
PREPARED_PER_TRANSACTION = 64
#: those transactions in flight at once, per store (each holds a connection)
PREPARED_CONNECTIONS = 4
log = logging.getLogger(__name__)


class StoreUnavailable(ConnectionError):
    """The storage backend cannot be reached."""


def _raise_first(replies: Any) -> None:
    """Raise the first error among `replies` (as `exchange` returns them)."""
    for reply in replies if isinstance(replies, list) else ():
        if isinstance(reply, Exception):
            raise reply


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


@dataclass(frozen=True)
class _Prepared:
    """A commit encoded ahead (`RedisStore.prepare_commit`): its writes as
    plain commands, but for its outbox messages' (they need the sequence)."""

    conversation_id: str
    #: the conversation's value as read (with its order): the version
    version: str
    #: watched while checking: the conversation and its lock
    watch: tuple[str, str]
    #: written before the outbox messages, and after them
    before: tuple[Command, ...]
    after: tuple[Command, ...]
    #: (list key, id, json, pending, channel message id, delivery state) each
    outbox: tuple[tuple[str, str, str, bool, str, str], ...]


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
        #: concurrent single commands share round trips
        self._co = Coalescer(client)
        self._prepared_slots = asyncio.Semaphore(PREPARED_CONNECTIONS)
        #: shared locks this process holds: conversation id -> (key, token, holding task)
        self._held: dict[str, tuple[str, str, asyncio.Task[Any] | None]] = {}
        self._closed = False
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

    async def ping(self) -> None:
        """Raise if Redis is unreachable; then bring data of older versions up to date."""
        try:
            async with asyncio.timeout(self._timeout):
                await self._r.ping()
        except (RedisError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"Redis at {_redact(self.url)} is unreachable: {exc!r}") from exc
        await self._upgrade_outbox()

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

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._co.close()
            await self._r.aclose()

    # -- Inbox ---------------------------------------------------------------

    async def accept(self, inbound: Inbound) -> bool:
        k = self._k
        keys = [k.extra(inbound.conversation_id), k.inbox_seq, k.inbox_queue, k.inbox_data]
        member = f"{inbound.conversation_id}{SEP}{inbound.source_id}"
        args = [inbound.source_id, member, codec.encode_inbound(inbound)]
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

    def _loaded(self, wanted: Sequence[tuple[str, str | None]], replies: Sequence[Any]) -> list[tuple[Loaded, object]]:
        """The replies to `_load_commands(wanted)` decoded, each with its
        version: the conversation's value as stored (with its order)."""
        found = iter(replies)
        loaded: list[tuple[Loaded, object]] = []
        for conversation_id, name in wanted:
            stored = next(found)
            conv, order = self._decode(stored)
            timer = None
            if name is not None and (due := next(found)) is not None:
                timer = Timer(conversation_id, name, codec.from_micros(int(due)))
            loaded.append(((conv, order, timer), stored))
        return loaded

    async def load_many(self, wanted: Sequence[tuple[str, str | None]]) -> list[Loaded]:
        return [loaded for loaded, _ in await self.load_versioned(wanted)]

    async def load_versioned(self, wanted: Sequence[tuple[str, str | None]]) -> list[tuple[Loaded, object]]:
        wanted = list(wanted)
        return self._loaded(wanted, await self._co.call_many(self._load_commands(wanted)))

    def prepare_commit(self, change: Commit, version: object) -> object:
        """The writes of COMMIT (`redis_keys.COMMIT`) for a follow-up's
        commit, as plain commands: its conversation is known (in the
        conversation set), a follow-up never passes the inbox, holds no lock
        and never places an order (no link token)."""
        if not isinstance(version, str):
            raise TypeError("a prepared commit needs the conversation as it was read")
        if change.link_token is not None:
            raise ValueError("a commit that places an order is not prepared")
        k, conv = self._k, change.conversation
        value = codec.encode_conversation(conv) + "\n"
        # the order as given, or as stored
        value += codec.encode_order(change.order) if change.order is not None else version.partition("\n")[2]
        before: list[Command] = [("SET", k.conversation(conv.id), value)]
        if change.timers_cancelled:
            before.append(("HDEL", k.extra(conv.id), *(f"t:{name}" for name in change.timers_cancelled)))
            before.append(("ZREM", k.timers, *(f"{conv.id}{SEP}{name}" for name in change.timers_cancelled)))
        fields: dict[str, list[Any]] = {k.extra(conv.id): [f"s:{change.inbound_source_id}", ""]}
        scored: list[Any] = []
        for timer in change.timers_set:
            due = codec.to_micros(timer.due_at)
            fields.setdefault(k.extra(timer.conversation_id), []).extend([f"t:{timer.name}", due])
            scored += [due, f"{timer.conversation_id}{SEP}{timer.name}"]
        if scored:
            before.append(("ZADD", k.timers, *scored))
        before += [("HSET", key, *pairs) for key, pairs in fields.items()]
        after: list[Command] = [
            ("RPUSH", k.transcript(entry.conversation_id), codec.encode_entry(entry)) for entry in change.transcript
        ]
        if change.tasks:
            after.append(("RPUSH", k.tasks, *(codec.dumps(task) for task in change.tasks)))
        if change.bind and conv.channel and conv.address:
            binding = k.bindings(conv.channel, conv.address)
            after += [("LREM", binding, 0, conv.id), ("LPUSH", binding, conv.id)]
        outbox = tuple((k.outbox_of(m.conversation_id), *_outbox_fields(m)) for m in change.outbox)
        watch = (k.conversation(conv.id), k.lock(conv.id))
        return _Prepared(conv.id, version, watch, tuple(before), tuple(after), outbox)

    async def commit_prepared(self, prepared: Sequence[object]) -> list[bool]:
        """Transactions (MULTI/EXEC) of plain commands, PREPARED_PER_TRANSACTION
        commits each (a script's arguments cost Redis several times more:
        each becomes a Lua string), checked under WATCH: a commit goes in
        when its conversation's value is still its version and its lock is
        free; a write by anyone else to a watched key before EXEC cancels the
        transaction, and its check runs again (PREPARED_TRIES times, then the
        rest are refused). Messages already in the outbox are not added
        again, as COMMIT does. A transaction that fails counts as refused
        (decided again: the source marks what was written, if anything);
        when all fail, the error is raised."""
        items = own_prepared(prepared, _Prepared)
        chunks = [items[at : at + PREPARED_PER_TRANSACTION] for at in range(0, len(items), PREPARED_PER_TRANSACTION)]
        results = await asyncio.gather(*(self._write_chunk(chunk) for chunk in chunks), return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed and (len(failed) == len(results) or not all(isinstance(r, Exception) for r in failed)):
            raise failed[0]
        if failed:
            log.warning("%d of %d transaction(s) of prepared commits failed: %r", len(failed), len(results), failed[0])
        return [
            ok
            for chunk, result in zip(chunks, results, strict=True)
            for ok in (result if isinstance(result, list) else [False] * len(chunk))
        ]

    async def _write_chunk(self, items: Sequence[_Prepared]) -> list[bool]:
        async with self._prepared_slots:
            for _ in range(PREPARED_TRIES):
                result = await self._write_watched(items)
                if result is not None:  # else cut short: check again
                    return result
        return [False] * len(items)

    async def _write_watched(self, items: Sequence[_Prepared]) -> list[bool] | None:
        """One try of `commit_prepared`: which were written, None when the
        transaction was cut short (nothing written)."""
        k = self._k
        watched = [key for p in items for key in p.watch]
        ids = [m[1] for p in items for m in p.outbox]
        checks: list[Command] = [("WATCH", *watched), ("MGET", *watched)]
        checks += [("HMGET", k.outbox, *ids), ("INCRBY", k.outbox_seq, len(ids))] if ids else []
        pool = self._r.connection_pool
        connection = await pool.get_connection()
        try:
            async with asyncio.timeout(SOCKET_TIMEOUT):
                replies = await exchange(connection, checks)
                _raise_first(replies)
                values = replies[1]
                ok = [values[2 * n] == p.version and values[2 * n + 1] is None for n, p in enumerate(items)]
                if not any(ok):
                    _raise_first(await exchange(connection, [("UNWATCH",)]))
                    return ok
                there = {i for i, found in zip(ids, replies[2], strict=True) if found is not None} if ids else set()
                seq = int(replies[3]) - len(ids) if ids else 0
                writes: list[Command] = [("MULTI",)]
                for p, good in zip(items, ok, strict=True):
                    if not good:
                        continue
                    writes += p.before
                    for key, message_id, body, pending, channel_id, delivery in p.outbox:
                        if message_id in there:
                            continue
                        seq += 1
                        writes.append(("HSET", k.outbox, message_id, f"{seq}|{body}"))
                        if pending:
                            writes.append(("ZADD", k.outbox_pending, seq, message_id))
                        if channel_id:
                            writes.append(("HSET", k.outbox_channel_id, channel_id, message_id))
                        writes += [("HSET", k.outbox_state, message_id, delivery), ("RPUSH", key, message_id)]
                    writes += p.after
                writes.append(("EXEC",))
                replies = await exchange(connection, writes)
        except BaseException:
            await connection.disconnect()  # mid-exchange: its state is unknown
            raise
        finally:
            await pool.release(connection)
        _raise_first(replies[:-1])  # a command refused: EXEC answers EXECABORT, nothing ran
        done = replies[-1]
        if done is None:
            return None
        if isinstance(done, Exception):
            raise done
        _raise_first(done)  # a command failed inside: the rest was written (as in a script)
        return ok

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
                        (cid, name, self._k.lock(cid), secrets.token_hex(8)) for cid, name in wanted if cid in free_ids
                    ]
                    commands: list[tuple[Any, ...]] = []
                    for cid, name, key, token in tried:
                        commands.append(("SET", key, token, "NX", "PX", self._lock_ttl_ms))
                        commands += self._load_commands([(cid, name)])
                    replies = iter(await self._co.call_many(commands))
                    for cid, name, key, token in tried:
                        got = next(replies)
                        reads = [next(replies) for _ in range(1 if name is None else 2)]
                        if got:
                            self._held[cid] = (key, token, asyncio.current_task())
                            taken[cid] = self._loaded([(cid, name)], reads)[0][0]
                yield taken
            finally:
                await self._release_held(list(taken))

    async def commit(self, change: Commit) -> None:
        await self.commit_many([change])

    async def commit_many(self, changes: Sequence[Commit]) -> None:
        """One COMMIT script per change, all in one MULTI/EXEC (shared with
        other callers' commits made at the same moment). Each script also
        releases the shared lock this process holds on its conversation:
        nothing is left to protect once written."""
        commands = []
        # only the holder's own commit releases a lock
        mine = [c.conversation.id for c in changes if self._holds(c.conversation.id)]
        for n, change in enumerate(changes):
            if n and n % ENCODE_SLICE == 0:
                await asyncio.sleep(0)  # encoding a burst's batch must not hold the loop
            commands.append(self._commit_command(change, release=change.conversation.id in mine))
        await self._co.transact(commands)
        for conversation_id in mine:
            self._held.pop(conversation_id, None)

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
            len(change.transcript), len(change.tasks),
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
            key, token = self._k.lock(conversation_id), secrets.token_hex(8)
            delay = 0.002
            while not await self._co.call("SET", key, token, "NX", "PX", self._lock_ttl_ms):
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

    # -- Outbox --------------------------------------------------------------

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
        keys = [k.outbox, k.outbox_state, k.outbox_pending, k.outbox_channel_id]
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
        # one script: a message is delivered by one sender
        k = self._k
        found = await self._co.call("EVAL", CLAIM_OUTBOX, 2, k.outbox_state, k.outbox, message_id)
        if not found:
            return None
        body, state = found
        return self._outbox(body, state)

    async def outbox_for(self, conversation_id: str) -> list[OutboxMessage]:
        return await self._outbox_many(await self._r.lrange(self._k.outbox_of(conversation_id), 0, -1))

    async def find_outbox_by_channel_id(self, channel_message_id: str) -> OutboxMessage | None:
        message_id = await self._co.call("HGET", self._k.outbox_channel_id, channel_message_id)
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
