"""Storage backends of `dialogs.ports.Store`: SQLite (embedded default) and
Redis; `open_store(url)` picks one from BUYERBOT_STORE_URL's scheme."""

from __future__ import annotations

from dialogs.ports import Store


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
