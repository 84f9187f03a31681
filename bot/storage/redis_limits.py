"""Rate limits shared by every process on one Redis: per channel overall (the
bot, or the WhatsApp number), per chat (or group, or WhatsApp pair), and a
channel-wide pause after a 429, all checked and taken in one script (GCRA:
each bucket is the time its next message may go, kept under its key), for
several chats in one call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.ratelimit import Answer, ChannelLimits, is_group, padded
from bot.storage.redis_batch import Coalescer
from bot.storage.redis_keys import Keys

#: KEYS: overall, pause, then one key per chat. ARGV: overall interval (ms),
#: overall burst, then per chat its interval (ms) and burst. Returns per chat,
#: in turn, "0" when taken, else "wait|chat" (only this chat must wait, ms);
#: it stops at the first "wait|all" (the channel must wait: the rest too).
RESERVE = """
local t = redis.call('TIME')
local now = t[1] * 1000 + t[2] / 1000
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return {paused .. '|all'} end
local interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local overall = math.max(tonumber(redis.call('GET', KEYS[1])) or now, now)
local out, taken = {}, false
for i = 3, #KEYS do
  local wait = overall - now - interval * burst
  if wait > 0 then
    out[#out + 1] = string.format('%.3f|all', wait)
    break
  end
  local chat_interval, chat_burst = tonumber(ARGV[2 * i - 3]), tonumber(ARGV[2 * i - 2])
  local chat = math.max(tonumber(redis.call('GET', KEYS[i])) or now, now)
  local chat_wait = chat - now - chat_interval * chat_burst
  if chat_wait > 0 then
    out[#out + 1] = string.format('%.3f|chat', chat_wait)
  else
    overall, taken = overall + interval, true
    chat = chat + chat_interval
    redis.call('SET', KEYS[i], string.format('%.3f', chat), 'PX', math.ceil(chat - now) + 1000)
    out[#out + 1] = '0'
  end
end
if taken then
  redis.call('SET', KEYS[1], string.format('%.3f', overall), 'PX', math.ceil(overall - now) + 1000)
end
return out
"""


class RedisLimits:
    """`bot.ratelimit.Limits` in Redis: N processes together keep the policy's
    rates, and a 429 seen by one pauses all (`pause`)."""

    def __init__(self, co: Coalescer, keys: Keys, limits: Mapping[str, ChannelLimits]) -> None:
        self._co, self._k, self.limits = co, keys, dict(limits)

    async def reserve(self, channel: str, chat: str) -> Answer:
        (answer,) = await self.reserve_many(channel, [chat])
        return answer

    async def reserve_many(self, channel: str, chats: Sequence[str]) -> list[Answer]:
        """One script call for all of `chats` (GCRA: each bucket is the time
        its next message may go, kept under its key)."""
        if not chats:
            return []
        limits, base = self.limits[channel], f"{self._k.limits}{channel}"
        overall_burst = max(1.0, limits.rate / 10)  # as `ChannelLimits`
        keys = [base, f"{base}:pause"]
        args: list[float] = [1000 / limits.rate, overall_burst - 1]
        for chat in chats:
            chat_rate = limits.per_chat_rate
            if is_group(channel, chat) and limits.per_group_rate is not None:
                chat_rate = limits.per_group_rate
            keys.append(f"{base}:c:{chat}")
            args += [1000 / chat_rate, limits.per_chat_burst - 1]
        found = await self._co.call("EVAL", RESERVE, len(keys), *keys, *args)
        answers: list[Answer] = []
        for text in found:
            if text == "0":
                answers.append((0.0, False))
            else:
                wait, _, scope = str(text).partition("|")
                answers.append((max(float(wait) / 1000, 0.001), scope == "all"))
        return padded(answers, len(chats))

    async def pause(self, channel: str, seconds: float) -> None:
        key, ms = f"{self._k.limits}{channel}:pause", max(int(seconds * 1000), 1)
        # set, or made longer: never shortens a pause another process set
        await self._co.call_many([("SET", key, "1", "PX", ms, "NX"), ("PEXPIRE", key, ms, "GT")])
