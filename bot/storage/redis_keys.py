"""Key layout and Lua scripts of the Redis store. Every key starts with a
configurable prefix (default `bb:`); ids are embedded as they are."""

from __future__ import annotations

#: separates conversation id and name in timer members and channel and address
SEP = "\x1f"

#: accept: dedupe per conversation (HSETNX), then queue it behind an INCR
#: sequence, owned by the accepting process (KEYS[5]: inbox owners; ARGV[4])
ACCEPT = """
if redis.call('HSETNX', KEYS[1], 's:' .. ARGV[1], '') == 0 then return 0 end
local seq = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[3], seq, ARGV[2])
redis.call('HSET', KEYS[4], ARGV[2], ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[5], ARGV[2], ARGV[4]) end
return 1
"""

#: a whole commit of one conversation, atomically (one command to send and
#: parse instead of a dozen in MULTI). KEYS (fixed): 1 conversation, 2 its
#: extra hash, 3 conversation set, 4 timer zset, 5 inbox queue, 6 inbox data,
#: 7 tasks, 8 outbox messages, 9 outbox sequence, 10 outbox pending,
#: 11 outbox by channel id, 12 outbox delivery state, 13 binding list (or any
#: key when not binding), 14 tokens, 15 order tokens, 16 lock (or any key),
#: 17 the scheduler lease, 18 outbox owners, 19 inbox owners; more keys are
#: named by index from ARGV.
#: ARGV: 1 conversation id, 2 the conversation json, and when 3 is "1" a
#: newline and the order json after it (3 "0": keep the stored order),
#: 4 source id, 5 inbox member, 6 link token ("" none), 7 its order id, 8 "1"
#: to bind, 9 lock token ("" none), 10-14 counts: cancelled timers, timers
#: set, outbox messages, transcript entries, tasks, 15 the fencing token a
#: follow-up's commit needs the lease to hold ("" none: any commit), 16 the
#: committing process (owner of the new messages); then: names; (key index,
#: member, field, due) each; (list key index, id, json, pending 0/1, channel
#: id, delivery state) each; (key index, entry) each; task json each.
#: Writes to one key go in one command (the extra hash's fields, the timers);
#: a binding already first is left as it is. Returns 0, or 1 when fenced out
#: (nothing written, the lock released): a stale scheduler leader's commit.
COMMIT = r"""
local K, a = KEYS, ARGV
if a[15] ~= '' and redis.call('GET', K[17]) ~= a[15] then
  if a[9] ~= '' and redis.call('GET', K[16]) == a[9] then redis.call('DEL', K[16]) end
  return 1
end
-- a command over a list of arguments, 1,000 at a time (unpack's limit is ~8,000)
local function each(command, key, list)
  for at = 1, #list, 1000 do
    redis.call(command, key, unpack(list, at, math.min(at + 999, #list)))
  end
end
if a[3] == '1' then
  redis.call('SET', K[1], a[2])
else
  local old = redis.call('GET', K[1])
  local at = old and string.find(old, '\n', 1, true)
  redis.call('SET', K[1], at and (a[2] .. string.sub(old, at)) or (a[2] .. '\n'))
end
redis.call('SADD', K[3], a[1])
local i = 17
local n = tonumber(a[10])
if n > 0 then
  local names, members = {}, {}
  for j = 1, n do
    names[j] = 't:' .. a[i]
    members[j] = a[1] .. '\31' .. a[i]
    i = i + 1
  end
  each('HDEL', K[2], names)
  each('ZREM', K[4], members)
end
-- hash fields to write, by key index: the source (processed), then timers
local fields = {[2] = {'s:' .. a[4], ''}}
n = tonumber(a[11])
if n > 0 then
  local scored = {}
  for _ = 1, n do
    local at = tonumber(a[i])
    local these = fields[at] or {}
    fields[at] = these
    these[#these + 1] = a[i + 2]
    these[#these + 1] = a[i + 3]
    scored[#scored + 1] = a[i + 3]
    scored[#scored + 1] = a[i + 1]
    i = i + 4
  end
  each('ZADD', K[4], scored)
end
for at, these in pairs(fields) do each('HSET', K[at], these) end
for _ = 1, tonumber(a[12]) do
  local id = a[i + 1]
  if redis.call('HEXISTS', K[8], id) == 0 then
    local seq = redis.call('INCR', K[9])
    redis.call('HSET', K[8], id, seq .. '|' .. a[i + 2])
    if a[i + 3] == '1' then redis.call('ZADD', K[10], seq, id) end
    if a[i + 4] ~= '' then redis.call('HSET', K[11], a[i + 4], id) end
    redis.call('HSET', K[12], id, a[i + 5])
    if a[16] ~= '' then redis.call('HSET', K[18], id, a[16]) end
    redis.call('RPUSH', K[tonumber(a[i])], id)
  end
  i = i + 6
end
for _ = 1, tonumber(a[13]) do
  redis.call('RPUSH', K[tonumber(a[i])], a[i + 1])
  i = i + 2
end
for _ = 1, tonumber(a[14]) do
  redis.call('RPUSH', K[7], a[i])
  i = i + 1
end
if a[8] == '1' and redis.call('LINDEX', K[13], 0) ~= a[1] then
  redis.call('LREM', K[13], 0, a[1])
  redis.call('LPUSH', K[13], a[1])
end
if a[6] ~= '' and redis.call('HSETNX', K[15], a[7], a[6]) == 1 then
  redis.call('HSET', K[14], a[6], a[7])
end
if redis.call('HDEL', K[6], a[5]) == 1 then
  redis.call('ZREM', K[5], a[5])
  redis.call('HDEL', K[19], a[5])
end
if a[9] ~= '' and redis.call('GET', K[16]) == a[9] then redis.call('DEL', K[16]) end
return 0
"""

#: claim a message for one delivery attempt: pending or sending becomes
#: sending with one more attempt, claimed by this process. KEYS: state hash,
#: messages hash, owners hash; ARGV: id, this process ("" no owners), the
#: prefix of the processes' presence keys. Returns {body, new state}, or nil
#: when unknown, done (sent, held, failed) or another live process's.
CLAIM_OUTBOX = """
local state = redis.call('HGET', KEYS[1], ARGV[1])
if not state then return false end
local status, attempts, rest = string.match(state, '^([^|]*)|([^|]*)|(.*)$')
if status ~= 'pending' and status ~= 'sending' then return false end
if ARGV[2] ~= '' then
  local owner = redis.call('HGET', KEYS[3], ARGV[1])
  if owner and owner ~= ARGV[2] and redis.call('EXISTS', ARGV[3] .. owner) == 1 then return false end
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
end
state = 'sending|' .. (tonumber(attempts) + 1) .. '|' .. rest
redis.call('HSET', KEYS[1], ARGV[1], state)
return {redis.call('HGET', KEYS[2], ARGV[1]), state}
"""

#: write a message's delivery state, and append transcript entries, at once.
#: KEYS: messages hash, state hash, pending zset, by-channel-id hash, owners
#: hash, then one transcript list per entry. ARGV: id, state, pending 0/1,
#: channel id, entries. A message done is nobody's any more.
FINISH_OUTBOX = """
local body = redis.call('HGET', KEYS[1], ARGV[1])
if not body then return redis.error_reply('no outbox message') end
local seq = string.match(body, '^(%d+)|')
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[3], seq, ARGV[1])
else
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('HDEL', KEYS[5], ARGV[1])
end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[4], ARGV[4], ARGV[1]) end
for i = 5, #ARGV do redis.call('RPUSH', KEYS[i + 1], ARGV[i]) end
return 1
"""

#: take a conversation's lock: set if absent with an expiry, or renewed when
#: it holds our token already (see `RedisStore._lock_token`). KEYS: lock;
#: ARGV: token, TTL ms. Returns 1 when taken.
TAKE_LOCK = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
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
        self.outbox = p + "ob"  # hash message id -> "seq|json" (as added; delivery state in `os`)
        self.outbox_seq = p + "oseq"
        self.outbox_pending = p + "op"  # zset message id -> seq (pending, sending)
        self.outbox_channel_id = p + "oc"  # hash channel message id -> message id
        self.outbox_state = p + "os"  # hash message id -> "status|attempts|json of the other delivery fields"
        self.timers = p + "tm"  # zset conversation SEP name -> due (µs since epoch)
        self.tokens = p + "tok"  # hash token -> order id
        self.order_tokens = p + "otok"  # hash order id -> latest token
        self.tasks = p + "tasks"  # list of json
        self.outbox_owner = p + "oown"  # hash message id -> the process sending it (pending, sending)
        self.inbox_owner = p + "iown"  # hash pending inbox member -> the process that accepted it
        self.lease = p + "lease"  # the scheduler leader's "process|fencing token", PX
        self.lease_epoch = p + "lease:n"  # INCR: the fencing tokens
        self.presence = p + "alive:"  # + process: a live process's presence key, PX
        self.limits = p + "rl:"  # + channel ...: the shared rate limits

    def commit_keys(self, conversation_id: str, binding: str | None, lock: str) -> list[str]:
        """COMMIT's 19 fixed keys: with no binding, K[13] names the
        conversation (unused)."""
        conv = self.conversation(conversation_id)
        return [
            conv, self.extra(conversation_id), self.conversations, self.timers, self.inbox_queue, self.inbox_data,
            self.tasks, self.outbox, self.outbox_seq, self.outbox_pending, self.outbox_channel_id, self.outbox_state,
            binding or conv, self.tokens, self.order_tokens, lock, self.lease, self.outbox_owner,
            self.inbox_owner,
        ]  # fmt: skip

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
