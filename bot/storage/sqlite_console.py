"""`ConsoleStore` on the same SQLite file as the conversations, in tables of
its own and on a connection of its own (small statements, run in place)."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from bot.accounts import AuditEntry, Session, User
from bot.storage import codec
from bot.storage.sqlite_schema import connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS console_users (name TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS console_sessions (
    token_hash TEXT PRIMARY KEY, user TEXT NOT NULL, expires_us INTEGER NOT NULL, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS console_sessions_user ON console_sessions (user);
CREATE TABLE IF NOT EXISTS console_audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS console_task_marks (task_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS console_seen (
    user TEXT NOT NULL, conversation_id TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (user, conversation_id)
);
"""


def _us(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


class SqliteConsoleStore:
    def __init__(self, db: sqlite3.Connection, url: str) -> None:
        self._db = db
        self.url = url

    @classmethod
    def open(cls, url: str) -> SqliteConsoleStore:
        db = connect(url[len("sqlite:///") :])
        db.executescript(SCHEMA)
        return cls(db, url)

    def _one(self, sql: str, *args: Any) -> Any:
        row = self._db.execute(sql, args).fetchone()
        return row[0] if row else None

    async def add_user(self, user: User) -> bool:
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO console_users (name, data) VALUES (?, ?)", (user.name, codec.dumps(user.to_dict()))
        )
        return cursor.rowcount == 1

    async def save_user(self, user: User) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO console_users (name, data) VALUES (?, ?)", (user.name, codec.dumps(user.to_dict()))
        )

    async def get_user(self, name: str) -> User | None:
        data = self._one("SELECT data FROM console_users WHERE name = ?", name)
        return User.from_dict(codec.loads(data)) if data else None

    async def users(self) -> list[User]:
        rows = self._db.execute("SELECT data FROM console_users ORDER BY name").fetchall()
        return [User.from_dict(codec.loads(row[0])) for row in rows]

    async def add_session(self, session: Session) -> None:
        self._db.execute(
            "INSERT INTO console_sessions (token_hash, user, expires_us, data) VALUES (?, ?, ?, ?)",
            (session.token_hash, session.user, _us(session.expires_at), codec.dumps(session.to_dict())),
        )

    async def get_session(self, token_hash: str, now: datetime) -> Session | None:
        data = self._one(
            "SELECT data FROM console_sessions WHERE token_hash = ? AND expires_us > ?", token_hash, _us(now)
        )
        return Session.from_dict(codec.loads(data)) if data else None

    async def drop_session(self, token_hash: str) -> None:
        self._db.execute("DELETE FROM console_sessions WHERE token_hash = ?", (token_hash,))

    async def drop_sessions_of(self, user: str) -> None:
        self._db.execute("DELETE FROM console_sessions WHERE user = ?", (user,))

    async def audit(self, entry: AuditEntry) -> None:
        self._db.execute("INSERT INTO console_audit (data) VALUES (?)", (codec.dumps(entry.to_dict()),))

    async def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        rows = self._db.execute("SELECT data FROM console_audit ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
        return [AuditEntry.from_dict(codec.loads(row[0])) for row in rows]

    async def mark_task_done(self, task_id: str, by: str, at: datetime) -> bool:
        mark = {"done_by": by, "done_at": at.isoformat()}
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO console_task_marks (task_id, data) VALUES (?, ?)", (task_id, codec.dumps(mark))
        )
        return cursor.rowcount == 1

    async def task_marks(self) -> dict[str, dict[str, Any]]:
        rows = self._db.execute("SELECT task_id, data FROM console_task_marks").fetchall()
        return {row[0]: codec.loads(row[1]) for row in rows}

    async def mark_seen(self, user: str, conversation_id: str, seq: int) -> None:
        self._db.execute(
            "INSERT INTO console_seen (user, conversation_id, seq) VALUES (?, ?, ?) ON CONFLICT (user, conversation_id)"
            " DO UPDATE SET seq = MAX(seq, excluded.seq)",
            (user, conversation_id, seq),
        )

    async def seen(self, user: str) -> dict[str, int]:
        rows = self._db.execute("SELECT conversation_id, seq FROM console_seen WHERE user = ?", (user,)).fetchall()
        return {row[0]: int(row[1]) for row in rows}

    async def ping(self) -> None:
        self._db.execute("SELECT 1").fetchone()

    async def close(self) -> None:
        self._db.close()
