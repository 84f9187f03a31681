"""Key layout and Lua scripts of the Redis store. Every key starts with a
configurable prefix (default `bb:`); ids are embedded as they are."""

from __future__ import annotations

#: separates conversation id and name in timer members and channel and address
SEP = "\x1f"

#: accept: dedupe per conversation (HSETNX), then queue it behind an INCR sequence
ACCEPT = """
if redis.call('HSETNX', KEYS[1], 's:' .. ARGV[1], '') == 0 then return 0 end
local seq = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[3], seq, ARGV[2])
redis.call('HSET', KEYS[4], ARGV[2], ARGV[3])
return 1
"""

#: add outbox messages whose id is new; existing ones are kept as they are.
#: KEYS: messages hash, sequence, pending zset, by-channel-id hash, then one
#: per-conversation list per message. ARGV: (id, json, pending 0/1, channel id) each
ADD_OUTBOX = """
for i = 1, #ARGV, 4 do
  local id = ARGV[i]
  if redis.call('HEXISTS', KEYS[1], id) == 0 then
    local seq = redis.call('INCR', KEYS[2])
    redis.call('HSET', KEYS[1], id, seq .. '|' .. ARGV[i + 1])
    if ARGV[i + 2] == '1' then redis.call('ZADD', KEYS[3], seq, id) end
    if ARGV[i + 3] ~= '' then redis.call('HSET', KEYS[4], ARGV[i + 3], id) end
    redis.call('RPUSH', KEYS[4 + (i + 3) / 4], id)
  end
end
return 0
"""

#: save the conversation json, keeping the stored order json (after the newline)
SAVE_KEEP_ORDER = """
local old = redis.call('GET', KEYS[1])
local order = ''
if old then
  local at = string.find(old, '\\n', 1, true)
  if at then order = string.sub(old, at + 1) end
end
redis.call('SET', KEYS[1], ARGV[1] .. '\\n' .. order)
return 0
"""

#: a link token for an order that has none yet (KEYS: tokens, order tokens; ARGV: token, order id)
LINK_TOKEN = """
if redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 0
"""

#: compare-and-delete: release the lock only when we still own it
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Keys:
    """Builds the key names under one prefix."""

    def __init__(self, prefix: str) -> None:
        p = prefix
        self.prefix = p
        self.conversations = p + "convs"  # set of conversation ids
        self.inbox_seq = p + "iseq"  # INCR sequence of accepted inbounds
        self.inbox_queue = p + "iq"  # zset pending member -> sequence
        self.inbox_data = p + "id"  # hash pending member -> inbound json
        self.outbox = p + "ob"  # hash message id -> "seq|json"
        self.outbox_seq = p + "oseq"
        self.outbox_pending = p + "op"  # zset message id -> seq (pending, sending)
        self.outbox_channel_id = p + "oc"  # hash channel message id -> message id
        self.timers = p + "tm"  # zset conversation SEP name -> due (µs since epoch)
        self.tokens = p + "tok"  # hash token -> order id
        self.order_tokens = p + "otok"  # hash order id -> latest token
        self.tasks = p + "tasks"  # list of json

    def conversation(self, conversation_id: str) -> str:
        """String: conversation json, a newline, order json (or nothing)."""
        return f"{self.prefix}c:{conversation_id}"

    def extra(self, conversation_id: str) -> str:
        """Small hash: s:<source_id> = "" for every source accepted or processed,
        t:<name> = due (µs since epoch) for every pending timer."""
        return f"{self.prefix}x:{conversation_id}"

    def outbox_of(self, conversation_id: str) -> str:
        return f"{self.prefix}o:{conversation_id}"

    def transcript(self, conversation_id: str) -> str:
        return f"{self.prefix}tr:{conversation_id}"

    def bindings(self, channel: str, address: str) -> str:
        return f"{self.prefix}b:{channel}{SEP}{address}"

    def lock(self, conversation_id: str) -> str:
        return f"{self.prefix}lock:{conversation_id}"
