"""`GuardStore` in the SQLite file of the store (its own connection, two small tables)."""

from __future__ import annotations

import sqlite3

from bot.storage.sqlite_schema import create_private_file

SCHEMA = """
CREATE TABLE IF NOT EXISTS guard_hits (key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS guard_hits_key ON guard_hits (key, at);
CREATE TABLE IF NOT EXISTS guard_values (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS guard_values_expires ON guard_values (expires);
"""
#: hits older than this are gone whatever their window (the longest policy window is far shorter)
KEEP_HITS = 30 * 86400.0


class SqliteGuard:
    def __init__(self, path: str) -> None:
        if path != ":memory:":
            from pathlib import Path

            create_private_file(Path(path))
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(SCHEMA)

    async def hit(self, key: str, now: float, window: float) -> list[float]:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM guard_hits WHERE key = ? AND at <= ?", (key, now - window))
            self._db.execute("DELETE FROM guard_hits WHERE at <= ?", (now - KEEP_HITS,))
            self._db.execute("INSERT INTO guard_hits (key, at) VALUES (?, ?)", (key, now))
        return await self.hits(key, now, window)

    async def hits(self, key: str, now: float, window: float) -> list[float]:
        rows = self._db.execute("SELECT at FROM guard_hits WHERE key = ? AND at > ? ORDER BY at", (key, now - window))
        return [float(at) for (at,) in rows]

    async def put(self, key: str, value: str, now: float, ttl: float) -> None:
        self._db.execute("INSERT OR REPLACE INTO guard_values (key, value, expires) VALUES (?, ?, ?)",
                         (key, value, now + ttl))  # fmt: skip

    async def get(self, key: str, now: float) -> str | None:
        row = self._db.execute("SELECT value FROM guard_values WHERE key = ? AND expires > ?", (key, now)).fetchone()
        return None if row is None else str(row[0])

    async def delete(self, key: str) -> None:
        self._db.execute("DELETE FROM guard_values WHERE key = ?", (key,))

    async def first(self, key: str, now: float, ttl: float) -> bool:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM guard_values WHERE expires <= ?", (now,))
            inserted = self._db.execute(
                "INSERT OR IGNORE INTO guard_values (key, value, expires) VALUES (?, '1', ?)", (key, now + ttl)
            ).rowcount
        return bool(inserted)

    async def close(self) -> None:
        self._db.close()
