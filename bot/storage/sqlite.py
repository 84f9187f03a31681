"""Embedded default store: stdlib sqlite3 in WAL mode, driven from one dedicated
worker thread so the event loop never waits on the disk."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from bot.storage import codec
from bot.storage.locks import LocalLocks
from bot.storage.sqlite_schema import connect
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

T = TypeVar("T")

PENDING = (str(OutboxStatus.PENDING), str(OutboxStatus.SENDING))


class SqliteStore:
    """The `dialogs.ports.Store` on one SQLite file (single process)."""

    def __init__(self, db: sqlite3.Connection, executor: ThreadPoolExecutor, url: str) -> None:
        self._db = db
        self._executor = executor
        self._locks = LocalLocks()
        self._closed = False
        #: reopens the same data with `open_store`
        self.url = url

    @classmethod
    async def open(cls, path: str | Path) -> SqliteStore:
        name = str(path)
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        loop = asyncio.get_running_loop()
        try:
            db = await loop.run_in_executor(executor, connect, name)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(db, executor, f"sqlite:///{name}")

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise RuntimeError("SqliteStore is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, self._db)

    async def _tx(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def run(db: sqlite3.Connection) -> T:
            db.execute("BEGIN IMMEDIATE")
            try:
                result = fn(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result

        return await self._run(run)

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
        row = await self._one("SELECT data, order_data FROM conversations WHERE id = ?", conversation_id)
        if row is None:
            return None, None
        return codec.decode_conversation(row[0]), codec.decode_order(row[1]) if row[1] else None

    async def commit(self, change: Commit) -> None:
        conv = change.conversation
        conv_data = codec.encode_conversation(conv)
        order_data = codec.encode_order(change.order) if change.order is not None else None
        outbox = [
            (m.id, m.conversation_id, str(m.status), m.channel_message_id, codec.encode_outbox(m))
            for m in change.outbox
        ]
        timers = [(t.conversation_id, t.name, codec.to_micros(t.due_at)) for t in change.timers_set]
        tasks = [(codec.dumps(task),) for task in change.tasks]

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO conversations (id, data, order_data) VALUES (?, ?, ?) ON CONFLICT (id) DO "
                "UPDATE SET data = excluded.data, order_data = COALESCE(excluded.order_data, order_data)",
                (conv.id, conv_data, order_data),
            )
            db.executemany(
                "INSERT OR IGNORE INTO outbox (id, conversation_id, status, channel_message_id, data) "
                "VALUES (?, ?, ?, ?, ?)",
                outbox,
            )
            db.executemany(
                "DELETE FROM timers WHERE conversation_id = ? AND name = ?",
                [(conv.id, name) for name in change.timers_cancelled],
            )
            db.executemany("INSERT OR REPLACE INTO timers (conversation_id, name, due_us) VALUES (?, ?, ?)", timers)
            self._append(db, change.transcript)
            db.executemany("INSERT INTO tasks (data) VALUES (?)", tasks)
            db.execute(
                "INSERT INTO inbox (source_id, processed) VALUES (?, 1) "
                "ON CONFLICT (source_id) DO UPDATE SET processed = 1, data = NULL",
                (change.inbound_source_id,),
            )

        await self._tx(write)

    @asynccontextmanager
    async def lock(self, conversation_id: str) -> AsyncIterator[None]:
        async with self._locks.hold(conversation_id):
            yield

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
        def write(db: sqlite3.Connection) -> None:
            row = db.execute("SELECT data FROM outbox WHERE id = ?", (message.id,)).fetchone()
            if row is None:
                raise KeyError(f"no outbox message {message.id!r}")
            merged = codec.merge_outbox(codec.decode_outbox(row[0]), message)
            db.execute(
                "UPDATE outbox SET status = ?, channel_message_id = ?, data = ? WHERE id = ?",
                (str(merged.status), merged.channel_message_id, codec.encode_outbox(merged), message.id),
            )

        await self._tx(write)

    async def outbox_for(self, conversation_id: str) -> list[OutboxMessage]:
        sql = "SELECT data FROM outbox WHERE conversation_id = ? ORDER BY seq"
        rows = await self._all(sql, conversation_id)
        return [codec.decode_outbox(data) for (data,) in rows]

    async def find_outbox_by_channel_id(self, channel_message_id: str) -> OutboxMessage | None:
        sql = "SELECT data FROM outbox WHERE channel_message_id = ? ORDER BY seq DESC LIMIT 1"
        row = await self._one(sql, channel_message_id)
        return codec.decode_outbox(row[0]) if row else None

    # -- Follow-ups ----------------------------------------------------------

    @staticmethod
    def _timer(row: tuple[str, str, int]) -> Timer:
        return Timer(conversation_id=row[0], name=row[1], due_at=codec.from_micros(row[2]))

    async def timers(self) -> list[Timer]:
        rows = await self._all("SELECT conversation_id, name, due_us FROM timers ORDER BY due_us, rowid")
        return [self._timer(row) for row in rows]

    async def timers_for(self, conversation_id: str) -> list[Timer]:
        rows = await self._all(
            "SELECT conversation_id, name, due_us FROM timers WHERE conversation_id = ? ORDER BY due_us",
            conversation_id,
        )
        return [self._timer(row) for row in rows]

    async def get_timer(self, conversation_id: str, name: str) -> Timer | None:
        row = await self._one(
            "SELECT conversation_id, name, due_us FROM timers WHERE conversation_id = ? AND name = ?",
            conversation_id,
            name,
        )
        return self._timer(row) if row else None

    # -- Transcript ----------------------------------------------------------

    @staticmethod
    def _append(db: sqlite3.Connection, entries: Sequence[TranscriptEntry]) -> None:
        for entry in entries:
            db.execute(
                "INSERT INTO transcript (conversation_id, n, data) VALUES "
                "(?, (SELECT COALESCE(MAX(n), 0) + 1 FROM transcript WHERE conversation_id = ?), ?)",
                (entry.conversation_id, entry.conversation_id, codec.encode_entry(entry)),
            )

    async def append_transcript(self, entries: Sequence[TranscriptEntry]) -> None:
        entries = list(entries)
        await self._tx(lambda db: self._append(db, entries))

    async def transcript(self, conversation_id: str, after: int = 0) -> list[tuple[int, TranscriptEntry]]:
        sql = "SELECT n, data FROM transcript WHERE conversation_id = ? AND n > ? ORDER BY n"
        rows = await self._all(sql, conversation_id, after)
        return [(n, codec.decode_entry(conversation_id, data)) for n, data in rows]

    # -- Bindings ------------------------------------------------------------

    async def put_link_token(self, token: str, order_id: str) -> None:
        sql = "INSERT OR REPLACE INTO link_tokens (token, order_id) VALUES (?, ?)"
        await self._run(lambda db: db.execute(sql, (token, order_id)))

    async def order_for_token(self, token: str) -> str | None:
        row = await self._one("SELECT order_id FROM link_tokens WHERE token = ?", token)
        return row[0] if row else None

    async def token_for_order(self, order_id: str) -> str | None:
        row = await self._one("SELECT token FROM link_tokens WHERE order_id = ? ORDER BY rowid DESC LIMIT 1", order_id)
        return row[0] if row else None

    async def bind(self, channel: str, address: str, conversation_id: str) -> None:
        sql = (
            "INSERT INTO bindings (channel, address, conversation_id, seq) VALUES "
            "(?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM bindings)) "
            "ON CONFLICT (channel, address, conversation_id) DO UPDATE SET seq = excluded.seq"
        )
        await self._run(lambda db: db.execute(sql, (channel, address, conversation_id)))

    async def bound(self, channel: str, address: str) -> list[str]:
        rows = await self._all(
            "SELECT conversation_id FROM bindings WHERE channel = ? AND address = ? ORDER BY seq DESC",
            channel,
            address,
        )
        return [row[0] for row in rows]

    # -- Tasks ---------------------------------------------------------------

    async def tasks(self) -> list[dict[str, Any]]:
        rows = await self._all("SELECT data FROM tasks ORDER BY seq")
        return [codec.loads(data) for (data,) in rows]
