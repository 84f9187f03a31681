"""How fast the sender may send: token buckets on an injectable monotonic
clock (the bot-wide limit and one bucket per chat, or per group), plus a
channel-wide pause for 429 `retry_after`. `Limits` is what the sender asks;
`LocalLimits` keeps them in this process (one process, SQLite), the Redis
store's `RedisLimits` shares them between processes."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

Answer = tuple[float, bool]


class Limits(Protocol):
    async def reserve(self, channel: str, chat: str) -> Answer:
        """Take the right to send one message to `chat` now: (0, _) when
        taken; else (seconds to wait, True when the whole channel must wait:
        its overall rate or a pause, False when only this chat must)."""

    async def reserve_many(self, channel: str, chats: Sequence[str]) -> list[Answer]:
        """`reserve` for each of `chats` in turn, at once (one round trip
        when shared): once the whole channel must wait, so do the rest."""

    async def pause(self, channel: str, seconds: float) -> None:
        """A 429: nobody sends on `channel` for `seconds`."""


def is_group(channel: str, chat: str) -> bool:
    """Telegram groups and channels have negative chat ids (and their own limit)."""
    return channel == "telegram" and chat.startswith("-")


@dataclass
class TokenBucket:
    rate: float
    capacity: float
    tokens: float = -1.0
    stamp: float = 0.0

    def delay(self, now: float) -> float:
        """Seconds until one token is available (0 when it is now)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1

    def _refill(self, now: float) -> None:
        if self.tokens < 0 and self.stamp == 0.0:
            self.tokens, self.stamp = self.capacity, now
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now


#: idle chat buckets are forgotten once there are more than this many...
FORGET_ABOVE = 10_000
#: ...at most once per this many takes (each time a scan of all of them)
FORGET_EVERY = 1_000


@dataclass
class ChannelLimits:
    """How fast one channel may send: overall, per chat, and pauses."""

    rate: float
    per_chat_rate: float
    per_chat_burst: float = 1.0
    #: a group's rate (messages/s), when it has its own (Telegram: 20 a minute)
    per_group_rate: float | None = None
    clock: Callable[[], float] = time.monotonic
    paused_until: float = 0.0
    _global: TokenBucket | None = None
    _chats: dict[str, TokenBucket] = field(default_factory=dict)
    _takes: int = 0

    def __post_init__(self) -> None:
        self._global = TokenBucket(self.rate, max(1.0, self.rate / 10))

    def delay(self, chat: str) -> float:
        now = self.clock()
        assert self._global is not None
        return max(self.paused_until - now, self._global.delay(now), self._chat(chat).delay(now), 0.0)

    def take(self, chat: str) -> None:
        now = self.clock()
        assert self._global is not None
        self._global.take(now)
        self._chat(chat).take(now)
        # amortised: one scan per FORGET_EVERY takes, not one per take while
        # more than FORGET_ABOVE chats are active (a burst to 10,000+ chats)
        self._takes += 1
        if len(self._chats) > FORGET_ABOVE and self._takes >= FORGET_EVERY:
            self._takes = 0
            self._forget_idle(now)

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    def _chat(self, chat: str) -> TokenBucket:
        bucket = self._chats.get(chat)
        if bucket is None:
            group = self.per_group_rate is not None and chat.startswith("-")
            rate = self.per_group_rate if group and self.per_group_rate is not None else self.per_chat_rate
            bucket = self._chats[chat] = TokenBucket(rate, self.per_chat_burst)
        return bucket

    def overall_delay(self) -> float:
        """Seconds the whole channel must wait (a pause, the overall rate)."""
        now = self.clock()
        assert self._global is not None
        return max(self.paused_until - now, self._global.delay(now), 0.0)

    def _forget_idle(self, now: float) -> None:
        for chat, bucket in list(self._chats.items()):
            if now - bucket.stamp > bucket.capacity / bucket.rate:
                del self._chats[chat]


def padded(answers: list[Answer], count: int) -> list[Answer]:
    """`answers` to the first of `count` chats, the last one a wait for the
    whole channel when short: the same for the rest."""
    return answers + [answers[-1]] * (count - len(answers)) if answers else []


class LocalLimits:
    """`Limits` kept in this process: right for one process (SQLite)."""

    def __init__(self, limits: Mapping[str, ChannelLimits]) -> None:
        self.limits = dict(limits)

    async def reserve(self, channel: str, chat: str) -> Answer:
        return self._reserve(channel, chat)

    async def reserve_many(self, channel: str, chats: Sequence[str]) -> list[Answer]:
        answers: list[Answer] = []
        for chat in chats:
            answers.append(self._reserve(channel, chat))
            if answers[-1][1]:
                break
        return padded(answers, len(chats))

    def _reserve(self, channel: str, chat: str) -> Answer:
        limits = self.limits[channel]
        overall = limits.overall_delay()
        if overall > 0:
            return overall, True
        wait = limits.delay(chat)
        if wait > 0:
            return wait, False
        limits.take(chat)
        return 0.0, False

    async def pause(self, channel: str, seconds: float) -> None:
        self.limits[channel].pause(seconds)
