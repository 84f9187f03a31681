"""The console's own records beside the conversations: users, sessions, the
audit log, which seller tasks are done, and what each person has read.
`open_console_store(url)` picks the backend from BUYERBOT_STORE_URL."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from bot.accounts import AuditEntry, Session, User


class ConsoleStore(Protocol):
    url: str

    async def add_user(self, user: User) -> bool:
        """False (nothing written) when the name is taken."""

    async def save_user(self, user: User) -> None: ...

    async def get_user(self, name: str) -> User | None: ...

    async def users(self) -> list[User]:
        """By name."""

    async def add_session(self, session: Session) -> None: ...

    async def get_session(self, token_hash: str, now: datetime) -> Session | None:
        """None when unknown or expired at `now`."""

    async def drop_session(self, token_hash: str) -> None: ...

    async def drop_sessions_of(self, user: str) -> None:
        """Logs a person out everywhere (disabled, password reset)."""

    async def audit(self, entry: AuditEntry) -> None: ...

    async def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        """Newest first."""

    async def mark_task_done(self, task_id: str, by: str, at: datetime) -> bool:
        """False (the first mark kept) when it was already done."""

    async def task_marks(self) -> dict[str, dict[str, Any]]:
        """task id -> {"done_by", "done_at"}."""

    async def mark_seen(self, user: str, conversation_id: str, seq: int) -> None:
        """The transcript entry `seq` and those before it were read by `user`."""

    async def seen(self, user: str) -> dict[str, int]: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


async def open_console_store(url: str) -> ConsoleStore:
    """Same URL as the conversation store; its own tables or keys."""
    if url.startswith("sqlite:///"):
        from bot.storage.sqlite_console import SqliteConsoleStore

        return SqliteConsoleStore.open(url)
    from bot.storage.redis_console import RedisConsoleStore

    return RedisConsoleStore.open(url)
