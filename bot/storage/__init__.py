"""Storage backends of `dialogs.ports.Store`: SQLite (embedded default) and
Redis; `open_store(url)` picks one from BUYERBOT_STORE_URL's scheme."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from dialogs.ports import Store


class _OfConversation(Protocol):
    @property
    def conversation_id(self) -> str: ...


P = TypeVar("P", bound=_OfConversation)


def own_prepared(prepared: Sequence[object], kind: type[P]) -> list[P]:
    """`Store.commit_prepared`'s argument, checked: each made by this store's
    `prepare_commit` (of type `kind`), one per conversation."""
    items = [p for p in prepared if isinstance(p, kind)]
    if len(items) != len(prepared):
        raise TypeError("commit_prepared takes what this store's prepare_commit made")
    if len({p.conversation_id for p in items}) != len(items):
        raise ValueError("commit_prepared takes one commit per conversation")
    return items


async def open_store(url: str) -> Store:
    """`sqlite:///relative/path`, `sqlite:////absolute/path` or
    `redis://host:port/db[?prefix=bb:]`. Opening Redis does not connect: `ping()` does."""
    scheme = url.partition(":")[0].lower()
    if scheme == "sqlite":
        if not url.startswith("sqlite:///") or len(url) == len("sqlite:///"):
            raise ValueError(f"BUYERBOT_STORE_URL {url!r}: expected sqlite:///path/to/file.db")
        from bot.storage.sqlite import SqliteStore

        return await SqliteStore.open(url[len("sqlite:///") :])
    if scheme in ("redis", "rediss", "unix"):
        from bot.storage.redis import RedisStore

        return await RedisStore.open(url)
    raise ValueError(
        f"BUYERBOT_STORE_URL {url!r} has an unknown scheme {scheme!r}: "
        "use sqlite:///path/to/file.db or redis://host:port/db"
    )
