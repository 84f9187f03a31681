"""The SQLite store's records besides conversations and the outbox: timers,
transcripts, link tokens and bindings, seller tasks."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from bot.storage import codec
from dialogs.model import Timer, TranscriptEntry

BIND = (
    "INSERT INTO bindings (channel, address, conversation_id, seq) VALUES "
    "(?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM bindings)) "
    "ON CONFLICT (channel, address, conversation_id) DO UPDATE SET seq = excluded.seq"
)
APPEND = (
    "INSERT INTO transcript (conversation_id, n, data) VALUES "
    "(?, (SELECT COALESCE(MAX(n), 0) + 1 FROM transcript WHERE conversation_id = ?), ?)"
)


class SqliteRecords:
    """Part of `SqliteStore` (a mixin: it runs statements through the store's
    connection, `_run`, `_tx`, `_all`, `_one`)."""

    _run: Callable[..., Any]
    _tx: Callable[..., Any]
    _all: Callable[..., Any]
    _one: Callable[..., Any]

    # -- Follow-ups ----------------------------------------------------------

    @staticmethod
    def _timer(row: tuple[str, str, int]) -> Timer:
        return Timer(conversation_id=row[0], name=row[1], due_at=codec.from_micros(row[2]))

    async def timers(self) -> list[Timer]:
        rows = await self._all("SELECT conversation_id, name, due_us FROM timers ORDER BY due_us, rowid")
        return [self._timer(row) for row in rows]

    async def timers_due(self, until: datetime) -> list[Timer]:
        def read(db: sqlite3.Connection) -> list[Timer]:  # decoded on the worker thread, off the loop
            sql = "SELECT conversation_id, name, due_us FROM timers WHERE due_us <= ? ORDER BY due_us, rowid"
            return [self._timer(row) for row in db.execute(sql, (codec.to_micros(until),))]

        found: list[Timer] = await self._run(read, batch=True)
        return found

    async def count_timers(self) -> int:
        return int((await self._one("SELECT COUNT(*) FROM timers"))[0])

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
            db.execute(APPEND, (entry.conversation_id, entry.conversation_id, codec.encode_entry(entry)))

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
        await self._run(lambda db: db.execute(BIND, (channel, address, conversation_id)))

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
