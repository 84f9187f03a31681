"""`ConsoleStore` on Redis, under the store's key prefix: `console:user` (hash
name -> json), sessions as keys that expire by themselves, the audit log as a
capped list, task marks and read marks as hashes."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio as aioredis

from bot.accounts import AuditEntry, Session, User
from bot.storage import codec

AUDIT_KEPT = 100_000
#: keeps the highest read mark (HSET only when higher)
MARK_SEEN = """
local old = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > old then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1
"""


class RedisConsoleStore:
    def __init__(self, client: aioredis.Redis, url: str, prefix: str) -> None:
        self._r: Any = client
        self._p = prefix + "console:"
        self.url = url

    @classmethod
    def open(cls, url: str) -> RedisConsoleStore:
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        prefixes = [value for key, value in query if key == "prefix"]
        rest = urlunsplit(parts._replace(query=urlencode([(k, v) for k, v in query if k != "prefix"])))
        client = aioredis.Redis.from_url(rest, decode_responses=True, socket_connect_timeout=1.5, socket_timeout=5)
        return cls(client, url, prefixes[-1] if prefixes else "bb:")

    async def add_user(self, user: User) -> bool:
        return bool(await self._r.hsetnx(self._p + "user", user.name, codec.dumps(user.to_dict())))

    async def save_user(self, user: User) -> None:
        await self._r.hset(self._p + "user", user.name, codec.dumps(user.to_dict()))

    async def get_user(self, name: str) -> User | None:
        data = await self._r.hget(self._p + "user", name)
        return User.from_dict(codec.loads(data)) if data else None

    async def users(self) -> list[User]:
        found = await self._r.hgetall(self._p + "user")
        return [User.from_dict(codec.loads(found[name])) for name in sorted(found)]

    async def add_session(self, session: Session) -> None:
        ttl_ms = max(1, int((session.expires_at - session.created_at).total_seconds() * 1000))
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.set(self._p + "session:" + session.token_hash, codec.dumps(session.to_dict()), px=ttl_ms)
            pipe.sadd(self._p + "sessions_of:" + session.user, session.token_hash)
            await pipe.execute()

    async def get_session(self, token_hash: str, now: datetime) -> Session | None:
        data = await self._r.get(self._p + "session:" + token_hash)
        if not data:
            return None
        session = Session.from_dict(codec.loads(data))
        return session if session.expires_at > now else None

    async def drop_session(self, token_hash: str) -> None:
        await self._r.delete(self._p + "session:" + token_hash)

    async def drop_sessions_of(self, user: str) -> None:
        hashes = await self._r.smembers(self._p + "sessions_of:" + user)
        keys = [self._p + "session:" + h for h in hashes]
        await self._r.delete(self._p + "sessions_of:" + user, *keys)

    async def audit(self, entry: AuditEntry) -> None:
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.lpush(self._p + "audit", codec.dumps(entry.to_dict()))
            pipe.ltrim(self._p + "audit", 0, AUDIT_KEPT - 1)
            await pipe.execute()

    async def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        rows = await self._r.lrange(self._p + "audit", 0, limit - 1)
        return [AuditEntry.from_dict(codec.loads(row)) for row in rows]

    async def mark_task_done(self, task_id: str, by: str, at: datetime) -> bool:
        mark = codec.dumps({"done_by": by, "done_at": at.isoformat()})
        return bool(await self._r.hsetnx(self._p + "task_marks", task_id, mark))

    async def task_marks(self) -> dict[str, dict[str, Any]]:
        found = await self._r.hgetall(self._p + "task_marks")
        return {task_id: codec.loads(data) for task_id, data in found.items()}

    async def mark_seen(self, user: str, conversation_id: str, seq: int) -> None:
        await self._r.eval(MARK_SEEN, 1, self._p + "seen:" + user, conversation_id, seq)

    async def seen(self, user: str) -> dict[str, int]:
        found = await self._r.hgetall(self._p + "seen:" + user)
        return {conversation_id: int(seq) for conversation_id, seq in found.items()}

    async def ping(self) -> None:
        await self._r.ping()

    async def close(self) -> None:
        await self._r.aclose()
