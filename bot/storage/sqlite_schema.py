"""The SQLite store's schema (created at open, idempotent) and connection setup:
WAL journal, synchronous=NORMAL; autocommit with explicit transactions."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id TEXT NOT NULL UNIQUE,
    data TEXT,
    processed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS inbox_pending ON inbox (seq) WHERE processed = 0;
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    order_data TEXT
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL,
    status TEXT NOT NULL,
    channel_message_id TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_conversation ON outbox (conversation_id, seq);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (seq) WHERE status IN ('pending', 'sending');
CREATE INDEX IF NOT EXISTS outbox_channel_id ON outbox (channel_message_id)
    WHERE channel_message_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS timers (
    conversation_id TEXT NOT NULL,
    name TEXT NOT NULL,
    due_us INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, name)
);
CREATE INDEX IF NOT EXISTS timers_due ON timers (due_us);
CREATE TABLE IF NOT EXISTS transcript (
    conversation_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (conversation_id, n)
);
CREATE TABLE IF NOT EXISTS link_tokens (
    token TEXT PRIMARY KEY,
    order_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS link_tokens_order ON link_tokens (order_id);
CREATE TABLE IF NOT EXISTS bindings (
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (channel, address, conversation_id)
);
CREATE INDEX IF NOT EXISTS bindings_seq ON bindings (seq);
CREATE TABLE IF NOT EXISTS tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    data TEXT NOT NULL
);
"""


#: pages of WAL after which a commit checkpoints by itself (SQLite's default
#: is 1,000: 4 MB). `Checkpointer` keeps the WAL far below this; the limit is
#: only a backstop, because the commit that reaches it copies the WAL into the
#: database and syncs it, and that commit may be running on the event loop.
AUTOCHECKPOINT_PAGES = 25_000
#: seconds between the background checkpoints
CHECKPOINT_EVERY = 1.0


def connect(path: str) -> sqlite3.Connection:
    """Creates parent dirs, opens, migrates."""
    if path != ":memory:":
        create_private_file(Path(path))
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=5000")
    db.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
    db.executescript(SCHEMA)
    return db


def create_private_file(path: Path) -> None:
    """The state directory (0700) and an empty database file (0600), private
    from their creation: SQLite gives its -wal and -shm files the database
    file's mode. An existing file is left as it is."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


class Checkpointer:
    """Copies the WAL back into the database file every CHECKPOINT_EVERY
    seconds, on its own thread and connection (PASSIVE: it never waits for,
    nor blocks, the store's reads and writes). Left to the commits, every
    4 MB of WAL one commit would do it, fsync included: 10-50 ms on the event
    loop, or a burst's batch made that much slower."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(CHECKPOINT_EVERY):
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # the commits' own backstop still works
                    log.warning("background checkpoint failed: %r", exc)
        finally:
            db.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
