"""SQLite serves one process: the running bot holds an exclusive lock on a
file beside the database (`<file>.lock`, flock: released by the kernel when
the process ends, however it ends), and a second one refuses to start."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

#: locks this process holds, by database path (a second `flock` of the same
#: file from this process, on another descriptor, would refuse itself)
_held: dict[str, IO[str]] = {}


class AlreadyRunning(ConnectionError):
    """Another process runs on this SQLite file; str() is the one line to show."""


def hold_single_process(database: str) -> None:
    """Take the lock for `database` (a path; ":memory:" needs none), or raise
    AlreadyRunning naming the other process."""
    if database == ":memory:":
        return
    path = str(Path(database).resolve()) + ".lock"
    if path in _held:
        return
    Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the state directory: private
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the process's life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        other = handle.read().strip() or "unknown"
        handle.close()
        raise AlreadyRunning(
            f"another buyerbot process (pid {other}) already runs on {database}: SQLite serves one "
            "process; run several on Redis (BUYERBOT_STORE_URL=redis://...)"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    _held[path] = handle


def release_single_process(database: str) -> None:
    handle = _held.pop(str(Path(database).resolve()) + ".lock", None)
    if handle is not None:
        handle.close()  # closing the descriptor releases the lock
