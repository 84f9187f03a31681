"""What a process of several on one Redis holds, and what others take over
when it dies: its presence (a key that lapses unless renewed), the scheduler
lease (set if absent with an expiry, a fencing token from a counter), and the
sweeps that take the inputs and messages of processes that are gone."""

from __future__ import annotations

from typing import Any

from bot.storage import codec
from bot.storage.redis_batch import Coalescer
from bot.storage.redis_keys import Keys
from dialogs.model import Inbound, OutboxMessage

#: take the scheduler lease when free, renew it when ours. KEYS: lease,
#: epoch; ARGV: "process|" prefix of our value, TTL ms, the value we hold
#: ("" none). A lease held under our process name but not by us was this
#: process's before a restart (names are host and port: no two live
#: processes share one): taken again at once, with a new token. Returns the
#: value held now (the fencing token), or nil.
HOLD_LEASE = """
local held = redis.call('GET', KEYS[1])
if held then
  if ARGV[3] ~= '' and held == ARGV[3] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return held
  end
  if string.sub(held, 1, #ARGV[1]) ~= ARGV[1] then return false end
end
local value = ARGV[1] .. redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return value
"""

#: give the lease up when still ours. KEYS: lease; ARGV: our value.
RELEASE_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

#: take over what processes that are gone left: members of a zset (pending
#: inbox or outbox, by sequence) whose owner (hash) has no presence key, or
#: none at all; with ARGV[4] "1" also our own (after a restart). KEYS: zset,
#: owners hash; ARGV: this process, presence prefix, from, "1"/"0", count.
#: Returns {next start (-1: done), taken members...}.
SWEEP = """
local members = redis.call('ZRANGE', KEYS[1], ARGV[3], ARGV[3] + ARGV[5] - 1)
local alive, taken = {}, {-1}
if #members == tonumber(ARGV[5]) then taken[1] = ARGV[3] + ARGV[5] end
for _, member in ipairs(members) do
  local owner = redis.call('HGET', KEYS[2], member)
  local take
  if not owner then
    take = true
  elseif owner == ARGV[1] then
    take = ARGV[4] == '1'
  else
    if alive[owner] == nil then alive[owner] = redis.call('EXISTS', ARGV[2] .. owner) == 1 end
    take = not alive[owner]
  end
  if take then
    redis.call('HSET', KEYS[2], member, ARGV[1])
    taken[#taken + 1] = member
  end
end
return taken
"""
#: members looked at per SWEEP call (each call holds Redis briefly)
SWEEP_PAGE = 1_000


class RedisClaims:
    """Part of `RedisStore` (a mixin: it shares the store's client, coalescer and keys)."""

    _r: Any
    _co: Coalescer
    _k: Keys
    owner: str

    async def hold_lease(self, fence: str | None, ttl: float) -> str | None:
        """This process's presence renewed, and the scheduler lease taken or
        renewed (see `scheduler.leader.Lease.hold`)."""
        k, ttl_ms = self._k, int(ttl * 1000)
        _, held = await self._co.call_many(
            [
                ("SET", k.presence + self.owner, "1", "PX", ttl_ms),
                ("EVAL", HOLD_LEASE, 2, k.lease, k.lease_epoch, f"{self.owner}|", ttl_ms, fence or ""),
            ]
        )
        return held or None

    async def release_lease(self, fence: str) -> None:
        await self._co.call("EVAL", RELEASE_LEASE, 1, self._k.lease, fence)

    async def _sweep(self, zset: str, owners: str, mine_too: bool) -> list[str]:
        taken: list[str] = []
        start = 0
        while start >= 0:
            args = (self.owner, self._k.presence, start, "1" if mine_too else "0", SWEEP_PAGE)
            found = await self._co.call("EVAL", SWEEP, 2, zset, owners, *args)
            start = int(found[0])
            taken += found[1:]
        return taken

    async def take_inbound(self, mine_too: bool) -> list[Inbound]:
        """Accepted inputs not handled yet whose process is gone (and with
        `mine_too` this process's own, after a restart), now ours."""
        members = await self._sweep(self._k.inbox_queue, self._k.inbox_owner, mine_too)
        if not members:
            return []
        found = await self._r.hmget(self._k.inbox_data, members)
        return [codec.decode_inbound(text) for text in found if text is not None]

    async def take_outbox(self, mine_too: bool) -> list[OutboxMessage]:
        """Messages not confirmed sent whose process is gone (and with
        `mine_too` this process's own), now ours to send."""
        ids = await self._sweep(self._k.outbox_pending, self._k.outbox_owner, mine_too)
        found: list[OutboxMessage] = await self._outbox_many(ids)  # type: ignore[attr-defined]
        return found
