"""`GuardStore` on the store's Redis (same key prefix, `guard:` keys that expire by themselves)."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio as aioredis

#: set unless present and not yet expired by the caller's clock; 1 when set
FIRST = """
local v = redis.call('GET', KEYS[1])
if v and tonumber(string.match(v, '^[^|]*')) > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""


class RedisGuard:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        prefixes = [value for key, value in query if key == "prefix"]
        rest = urlunsplit(parts._replace(query=urlencode([(k, v) for k, v in query if k != "prefix"])))
        self._prefix = (prefixes[-1] if prefixes else "bb:") + "guard:"
        self._r: Any = aioredis.Redis.from_url(rest, decode_responses=True, socket_timeout=5)

    def _k(self, key: str) -> str:
        return self._prefix + key

    async def hit(self, key: str, now: float, window: float) -> list[float]:
        k = self._k(key)
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(k, "-inf", now - window)
            pipe.zadd(k, {f"{now!r}:{secrets.token_hex(4)}": now})
            pipe.pexpire(k, int(window * 1000) + 1000)
            pipe.zrange(k, 0, -1, withscores=True)
            *_, members = await pipe.execute()
        return [float(score) for _, score in members]

    async def hits(self, key: str, now: float, window: float) -> list[float]:
        members = await self._r.zrangebyscore(self._k(key), f"({now - window!r}", "+inf", withscores=True)
        return [float(score) for _, score in members]

    async def put(self, key: str, value: str, now: float, ttl: float) -> None:
        # the expiry rides along: `now` is the caller's clock, Redis's own TTL only cleans up
        await self._r.set(self._k(key), f"{now + ttl!r}|{value}", px=max(1, int(ttl * 1000)))

    async def get(self, key: str, now: float) -> str | None:
        stored = await self._r.get(self._k(key))
        if stored is None:
            return None
        expires, _, value = str(stored).partition("|")
        return value if float(expires) > now else None

    async def delete(self, key: str) -> None:
        await self._r.delete(self._k(key))

    async def first(self, key: str, now: float, ttl: float) -> bool:
        px = max(1, int(ttl * 1000))
        return bool(await self._r.eval(FIRST, 1, self._k(key), repr(now), f"{now + ttl!r}|1", px))

    async def close(self) -> None:
        await self._r.aclose()
