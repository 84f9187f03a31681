"""Rate limits shared by every process on one Redis: per channel overall (the
bot, or the WhatsApp number), per chat (or group, or WhatsApp pair), and a
channel-wide pause after a 429, all checked and taken in one script (GCRA:
each bucket is the time its next message may go, kept under its key)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.ratelimit import ChannelLimits, is_group
from bot.storage.redis_batch import Coalescer
from bot.storage.redis_keys import Keys

#: KEYS: overall, chat, pause. ARGV: overall interval (ms), overall burst,
#: chat interval (ms), chat burst. Returns "0" when taken, else "wait|all"
#: (the channel must wait, ms) or "wait|chat" (only this chat).
RESERVE = """
local t = redis.call('TIME')
local now = t[1] * 1000 + t[2] / 1000
local paused = redis.call('PTTL', KEYS[3])
if paused > 0 then return paused .. '|all' end
local function next_at(key, interval, burst)
  local tat = tonumber(redis.call('GET', key)) or now
  if tat < now then tat = now end
  return tat + interval, tat - now - interval * burst
end
local overall, overall_wait = next_at(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
if overall_wait > 0 then return string.format('%.3f|all', overall_wait) end
local chat, chat_wait = next_at(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]))
if chat_wait > 0 then return string.format('%.3f|chat', chat_wait) end
redis.call('SET', KEYS[1], string.format('%.3f', overall), 'PX', math.ceil(overall - now) + 1000)
redis.call('SET', KEYS[2], string.format('%.3f', chat), 'PX', math.ceil(chat - now) + 1000)
return '0'
"""


class RedisLimits:
    """`bot.ratelimit.Limits` in Redis: N processes together keep the policy's
    rates, and a 429 seen by one pauses all (`pause`)."""

    def __init__(self, co: Coalescer, keys: Keys, limits: Mapping[str, ChannelLimits]) -> None:
        self._co, self._k, self.limits = co, keys, dict(limits)

    async def reserve(self, channel: str, chat: str) -> tuple[float, bool]:
        limits, base = self.limits[channel], f"{self._k.limits}{channel}"
        chat_rate = limits.per_chat_rate
        if is_group(channel, chat) and limits.per_group_rate is not None:
            chat_rate = limits.per_group_rate
        keys = (base, f"{base}:c:{chat}", f"{base}:pause")
        overall_burst = max(1.0, limits.rate / 10)  # as `ChannelLimits`
        args = (1000 / limits.rate, overall_burst - 1, 1000 / chat_rate, limits.per_chat_burst - 1)
        found = str(await self._co.call("EVAL", RESERVE, 3, *keys, *args))
        if found == "0":
            return 0.0, False
        wait, _, scope = found.partition("|")
        return max(float(wait) / 1000, 0.001), scope == "all"

    async def pause(self, channel: str, seconds: float) -> None:
        key, ms = f"{self._k.limits}{channel}:pause", max(int(seconds * 1000), 1)
        # set, or made longer: never shortens a pause another process set
        await self._co.call_many([("SET", key, "1", "PX", ms, "NX"), ("PEXPIRE", key, ms, "GT")])
