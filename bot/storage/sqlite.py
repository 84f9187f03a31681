"""Embedded default store: stdlib sqlite3 in WAL mode, driven from one dedicated
worker thread so the event loop never waits on the disk."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from bot.storage import codec
from bot.storage.locks import LocalLocks
from bot.storage.sqlite_records import APPEND, BIND, SqliteRecords
from bot.storage.sqlite_schema import Checkpointer, connect
from dialogs.model import (
    Commit,
    Conversation,
    Inbound,
    Order,
    OutboxMessage,
    OutboxStatus,
    TranscriptEntry,
)
from dialogs.ports import Loaded

T = TypeVar("T")

#: more conversations than this in one call go to the worker thread
BATCH_INLINE = 4
PENDING = (str(OutboxStatus.PENDING), str(OutboxStatus.SENDING))
#: a claim in one statement: SENDING with one more attempt, unless it is done
CLAIM = (
    "UPDATE outbox SET status = ?, data = json_set(data, '$.status', ?, "
    "'$.attempts', COALESCE(json_extract(data, '$.attempts'), 0) + 1) "
    "WHERE id = ? AND status IN (?, ?) RETURNING data"
)
#: the delivery fields set in place: a JSON merge patch (null removes a key)
DELIVER = "UPDATE outbox SET status = ?, channel_message_id = ?, data = json_patch(data, ?) WHERE id = ?"
#: a conversation's row: what decodes into it
READ_CONVERSATION = "SELECT data, order_data FROM conversations WHERE id = ?"
#: what a commit writes, in this order (`SqliteStore._rows` gives the parameters)
COMMIT_STATEMENTS = (
    "INSERT INTO conversations (id, data, order_data) VALUES (?, ?, ?) ON CONFLICT (id) DO "
    "UPDATE SET data = excluded.data, order_data = COALESCE(excluded.order_data, order_data)",
    "INSERT OR IGNORE INTO outbox (id, conversation_id, status, channel_message_id, data) VALUES (?, ?, ?, ?, ?)",
    "DELETE FROM timers WHERE conversation_id = ? AND name = ?",
    "INSERT OR REPLACE INTO timers (conversation_id, name, due_us) VALUES (?, ?, ?)",
    APPEND,
    "INSERT INTO tasks (data) VALUES (?)",
    BIND,
    "INSERT INTO link_tokens (token, order_id) SELECT ?, ? "
    "WHERE NOT EXISTS (SELECT 1 FROM link_tokens WHERE order_id = ?)",
    "INSERT INTO inbox (source_id, processed) VALUES (?, 1) "
    "ON CONFLICT (source_id) DO UPDATE SET processed = 1, data = NULL",
)


class SqliteStore(SqliteRecords):
    """The `dialogs.ports.Store` on one SQLite file (single process)."""

    def __init__(self, db: sqlite3.Connection, url: str, checkpointer: Checkpointer | None = None) -> None:
        self._db = db
        self._checkpointer = checkpointer
        #: statements run on the caller's thread; this only guards a second thread
        self._guard = threading.Lock()
        #: batches (a burst of follow-ups) go to a worker thread instead, and the
        #: loop's own calls wait for them rather than for the connection
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-batch")
        self._batch_running = asyncio.Lock()
        #: the loop's own calls made while a batch runs: run as soon as it ends,
        #: before the next batch (a burst queues many; a claim waits for one)
        self._after_batch: list[Callable[[], None]] = []
        #: the sender's writes queued in this turn of the loop, and the task that
        #: commits them together in the next (see `_grouped`)
        self._writes: list[tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._locks = LocalLocks()
        self._closed = False
        #: reopens the same data with `open_store`
        self.url = url

    @classmethod
    async def open(cls, path: str | Path) -> SqliteStore:
        name = str(path)
        db = connect(name)
        return cls(db, f"sqlite:///{name}", Checkpointer(name) if name != ":memory:" else None)

    async def _run(self, fn: Callable[[sqlite3.Connection], T], batch: bool = False) -> T:
        """One conversation's work runs on the loop's own thread: in WAL mode
        with synchronous=NORMAL a statement takes microseconds and a commit
        does not fsync, while a hop to a worker thread costs ~170 us
        (measured), 30 times a keyed read. A batch runs on the worker thread
        so that it never holds the loop. A killed process loses nothing
        committed (the WAL is in the OS cache); a power cut may lose the last
        commits (see README, Operations)."""
        if self._closed:
            raise RuntimeError("SqliteStore is closed")
        if batch:
            async with self._batch_running:
                try:
                    return await asyncio.get_running_loop().run_in_executor(self._executor, self._guarded, fn)
                finally:
                    waiting, self._after_batch = self._after_batch, []
                    for run in waiting:
                        run()
        if self._batch_running.locked():
            return await self._when_batch_ends(lambda: self._guarded(fn))
        return self._guarded(fn)

    def _when_batch_ends(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()

        def run() -> None:
            if not future.done():  # else its caller gave up
                try:
                    future.set_result(fn())
                except Exception as exc:
                    future.set_exception(exc)

        self._after_batch.append(run)
        return future

    def _guarded(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._guard:
            return fn(self._db)

    async def _grouped(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """A write (an outbox claim or delivery update) that shares one
        transaction with the others queued in the same turn of the loop: the
        sender's tasks run side by side, and a commit costs more than the
        statements (a WAL frame per page touched; the claims of neighbouring
        messages touch the same pages). Each still succeeds or fails on its
        own (a savepoint each), and returns once committed."""
        if self._closed:
            raise RuntimeError("SqliteStore is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._writes.append((fn, future))
        if self._flusher is None:
            self._flusher = asyncio.ensure_future(self._flush())
        return await future

    async def _flush(self) -> None:
        if self._batch_running.locked():
            await self._when_batch_ends(self._flush_now)
        else:
            self._flush_now()

    def _flush_now(self) -> None:
        writes = [(fn, future) for fn, future in self._writes if not future.done()]  # a cancelled caller: not written
        self._writes, self._flusher = [], None  # later writes: the next group
        if not writes:
            return
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            with self._guard:
                if self._closed:
                    raise RuntimeError("SqliteStore is closed")
                db, alone = self._db, len(writes) == 1
                db.execute("BEGIN IMMEDIATE")
                try:
                    for fn, future in writes:
                        if not alone:
                            db.execute("SAVEPOINT grouped")
                        try:
                            result = fn(db)
                        except Exception as exc:
                            if alone:
                                raise
                            db.execute("ROLLBACK TO grouped")
                            outcomes.append((future, None, exc))
                        else:
                            outcomes.append((future, result, None))
                        if not alone:
                            db.execute("RELEASE grouped")
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
        except Exception as exc:  # nothing of the group was written
            outcomes = [(future, None, exc) for _, future in writes]
        for future, result, error in outcomes:
            if future.done():
                continue
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)

    async def _tx(self, fn: Callable[[sqlite3.Connection], T], batch: bool = False) -> T:
        def run(db: sqlite3.Connection) -> T:
            db.execute("BEGIN IMMEDIATE")
            try:
                result = fn(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result

        return await self._run(run, batch)

    async def _all(self, sql: str, *args: Any) -> list[Any]:
        return await self._run(lambda db: db.execute(sql, args).fetchall())

    async def _one(self, sql: str, *args: Any) -> Any:
        return await self._run(lambda db: db.execute(sql, args).fetchone())

    # -- Store ---------------------------------------------------------------

    async def ping(self) -> None:
        await self._one("SELECT 1")

    async def close(self) -> None:
        if self._closed:
            return
        if self._checkpointer is not None:  # first: the last connection to close checkpoints all
            await asyncio.get_running_loop().run_in_executor(None, self._checkpointer.stop)
        try:
            await self._run(lambda db: db.close())
        finally:
            self._closed = True
            self._executor.shutdown(wait=True)

    # -- Inbox ---------------------------------------------------------------

    async def accept(self, inbound: Inbound) -> bool:
        data = codec.encode_inbound(inbound)
        sql = "INSERT OR IGNORE INTO inbox (source_id, data) VALUES (?, ?)"
        return bool(await self._run(lambda db: db.execute(sql, (inbound.source_id, data)).rowcount == 1))

    async def pending_inbound(self, limit: int = 1000) -> list[Inbound]:
        rows = await self._all("SELECT data FROM inbox WHERE processed = 0 ORDER BY seq LIMIT ?", limit)
        return [codec.decode_inbound(data) for (data,) in rows]

    # -- Conversations -------------------------------------------------------

    async def load(self, conversation_id: str) -> tuple[Conversation | None, Order | None]:
        row = await self._one(READ_CONVERSATION, conversation_id)
        return (None, None) if row is None else self._decode(row)

    async def load_many(self, wanted: Sequence[tuple[str, str | None]]) -> list[Loaded]:
        wanted = list(wanted)

        def read(db: sqlite3.Connection) -> list[tuple[Any, Any]]:
            found = []
            for conversation_id, name in wanted:
                row = db.execute(READ_CONVERSATION, (conversation_id,))
                timer = None
                if name is not None:
                    timer = db.execute(
                        "SELECT conversation_id, name, due_us FROM timers WHERE conversation_id = ? AND name = ?",
                        (conversation_id, name),
                    ).fetchone()
                found.append((row.fetchone(), timer))
            return found

        loaded: list[Loaded] = []
        for row, timer in await self._run(read, batch=len(wanted) > BATCH_INLINE):
            conv, order = (None, None) if row is None else self._decode(row)
            loaded.append((conv, order, self._timer(timer) if timer else None))
        return loaded

    @staticmethod
    def _decode(row: tuple[str, str | None]) -> tuple[Conversation, Order | None]:
        return codec.decode_conversation(row[0]), codec.decode_order(row[1]) if row[1] else None

    async def commit(self, change: Commit) -> None:
        await self._tx(self._writer(change))

    async def commit_many(self, changes: Sequence[Commit]) -> None:
        rows = [self._rows(change) for change in changes]  # encoded here, on the loop
        if len({change.conversation.id for change in changes}) == len(changes):
            rows = [self._merged(rows)]

        def write(db: sqlite3.Connection) -> None:
            for one in rows:
                self._execute(db, one)

        await self._tx(write, batch=len(changes) > BATCH_INLINE)

    def _writer(self, change: Commit) -> Callable[[sqlite3.Connection], None]:
        """Encodes `change` now (on the loop); the returned function writes it
        inside the caller's transaction (on the store's thread)."""
        rows = self._rows(change)
        return lambda db: self._execute(db, rows)

    @staticmethod
    def _merged(rows: Sequence[list[list[tuple[Any, ...]]]]) -> list[list[tuple[Any, ...]]]:
        """The rows of several commits (of different conversations) as one:
        each statement once for all, rows in the order of the commits, writes
        what one commit after another would."""
        return [[row for one in rows for row in one[k]] for k in range(len(COMMIT_STATEMENTS))]

    @staticmethod
    def _execute(db: sqlite3.Connection, rows: list[list[tuple[Any, ...]]]) -> None:
        for sql, params in zip(COMMIT_STATEMENTS, rows, strict=True):
            if params:
                db.executemany(sql, params)

    @staticmethod
    def _rows(change: Commit) -> list[list[tuple[Any, ...]]]:
        """A commit's parameter rows, one list per statement of COMMIT_STATEMENTS."""
        conv = change.conversation
        order_data = codec.encode_order(change.order) if change.order is not None else None
        order_id = change.order.order_id if change.order is not None else conv.order_id
        return [
            [(conv.id, codec.encode_conversation(conv), order_data)],
            [
                (m.id, m.conversation_id, str(m.status), m.channel_message_id, codec.encode_outbox(m))
                for m in change.outbox
            ],
            [(conv.id, name) for name in change.timers_cancelled],
            [(t.conversation_id, t.name, codec.to_micros(t.due_at)) for t in change.timers_set],
            [(e.conversation_id, e.conversation_id, codec.encode_entry(e)) for e in change.transcript],
            [(codec.dumps(task),) for task in change.tasks],
            [(conv.channel, conv.address, conv.id)] if change.bind and conv.channel and conv.address else [],
            [(change.link_token, order_id, order_id)] if change.link_token is not None else [],
            [(change.inbound_source_id,)],
        ]

    @asynccontextmanager
    async def lock(self, conversation_id: str) -> AsyncIterator[None]:
        async with self._locks.hold(conversation_id):
            yield

    @asynccontextmanager
    async def load_locked(self, wanted: Sequence[tuple[str, str | None]]) -> AsyncIterator[dict[str, Loaded]]:
        async with self._locks.hold_free([cid for cid, _ in wanted]) as taken:
            held = set(taken)
            mine = [(cid, name) for cid, name in wanted if cid in held]
            loaded = await self.load_many(mine) if mine else []
            yield {cid: found for (cid, _), found in zip(mine, loaded, strict=True)}

    async def conversations(self) -> list[Conversation]:
        rows = await self._all("SELECT data FROM conversations ORDER BY id")
        return [codec.decode_conversation(data) for (data,) in rows]

    # -- Outbox --------------------------------------------------------------

    async def pending_outbox(self, limit: int = 1000) -> list[OutboxMessage]:
        rows = await self._all("SELECT data FROM outbox WHERE status IN (?, ?) ORDER BY seq LIMIT ?", *PENDING, limit)
        return [codec.decode_outbox(data) for (data,) in rows]

    async def get_outbox(self, message_id: str) -> OutboxMessage | None:
        row = await self._one("SELECT data FROM outbox WHERE id = ?", message_id)
        return codec.decode_outbox(row[0]) if row else None

    async def update_outbox(self, message: OutboxMessage) -> None:
        await self._grouped(self._update_outbox(message))

    @staticmethod
    def _update_outbox(message: OutboxMessage) -> Callable[[sqlite3.Connection], None]:
        """Sets the delivery fields (`codec.OUTBOX_MUTABLE`) in the stored JSON
        as replacing them and `codec.encode_outbox` would, without decoding
        and re-encoding the whole message."""
        args = (str(message.status), message.channel_message_id, codec.delivery_patch(message), message.id)

        def write(db: sqlite3.Connection) -> None:
            if db.execute(DELIVER, args).rowcount != 1:
                raise KeyError(f"no outbox message {message.id!r}")

        return write

    async def claim_outbox(self, message_id: str) -> OutboxMessage | None:
        sending = str(OutboxStatus.SENDING)
        rows = await self._grouped(lambda db: db.execute(CLAIM, (sending, sending, message_id, *PENDING)).fetchall())
        return codec.decode_outbox(rows[0][0]) if rows else None

    async def finish_outbox(self, message: OutboxMessage, transcript: Sequence[TranscriptEntry] = ()) -> None:
        entries = list(transcript)
        update = self._update_outbox(message)

        def write(db: sqlite3.Connection) -> None:
            update(db)
            self._append(db, entries)

        await self._grouped(write)

    async def outbox_for(self, conversation_id: str) -> list[OutboxMessage]:
        sql = "SELECT data FROM outbox WHERE conversation_id = ? ORDER BY seq"
        rows = await self._all(sql, conversation_id)
        return [codec.decode_outbox(data) for (data,) in rows]

    async def find_outbox_by_channel_id(self, channel_message_id: str) -> OutboxMessage | None:
        sql = "SELECT data FROM outbox WHERE channel_message_id = ? ORDER BY seq DESC LIMIT 1"
        row = await self._one(sql, channel_message_id)
        return codec.decode_outbox(row[0]) if row else None

    #: one process on SQLite: whatever is pending is this process's to take at start-up
    async def take_inbound(self, mine_too: bool) -> list[Inbound]:
        return await self.pending_inbound(limit=1_000_000) if mine_too else []

    async def take_outbox(self, mine_too: bool) -> list[OutboxMessage]:
        return await self.pending_outbox(limit=1_000_000) if mine_too else []
