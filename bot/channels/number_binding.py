"""Binding a chat by order number plus a second, non-public fact (the last 4
digits of the order's phone, or its delivery postal code), for Telegram and
WhatsApp alike. Attempts are counted durably in the store, per chat and per
order; a proof never moves a conversation already bound elsewhere (the engine
turns it into a link request, `dialogs/link_requests.py`)."""

from __future__ import annotations

import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.channels.telegram_binding import order_number_in
from bot.runtime import Runtime
from bot.storage.guard import GuardStore
from dialogs.model import Buyer, Inbound
from dialogs.policy import Policy, parse_duration

_DIGITS = re.compile(r"\d")
_POSTAL = re.compile(r"[^0-9A-Za-z]")


@dataclass(frozen=True)
class BindingLimits:
    """`[binding]` of the policy file."""

    chat_attempts: int = 3
    chat_window: float = 3600.0
    order_attempts: int = 5
    order_window: float = 86400.0
    order_lock: float = 86400.0
    question_ttl: float = 900.0
    request_ttl: float = 86400.0

    @classmethod
    def from_policy(cls, policy: Policy | None) -> BindingLimits:
        raw: dict[str, Any] = policy.raw.get("binding", {}) if policy is not None else {}

        def seconds(key: str, default: float) -> float:
            return parse_duration(raw[key], f"binding.{key}").total_seconds() if key in raw else default

        return cls(
            chat_attempts=int(raw.get("chat_attempts", cls.chat_attempts)),
            chat_window=seconds("chat_window", cls.chat_window),
            order_attempts=int(raw.get("order_attempts", cls.order_attempts)),
            order_window=seconds("order_window", cls.order_window),
            order_lock=seconds("order_lock", cls.order_lock),
        )


def second_fact_matches(buyer: Buyer, text: str) -> bool:
    """The last 4 digits of the order's phone, or its postal code; never the total."""
    digits = "".join(_DIGITS.findall(text))
    candidates: list[str] = []
    for phone in (buyer.phone, buyer.whatsapp_phone):
        phone_digits = "".join(_DIGITS.findall(phone or ""))
        if len(phone_digits) >= 6:
            candidates.append(phone_digits[-4:])
    given = [digits] if len(digits) == 4 else []
    postal = _POSTAL.sub("", buyer.postal_code or "").upper()
    if len(postal) >= 3:
        candidates.append(postal)
        given.append(_POSTAL.sub("", text).upper())
    return any(hmac.compare_digest(g.encode(), c.encode()) for g in given for c in candidates)


@dataclass(frozen=True)
class Outcome:
    """What to tell the chat: a template and its context."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


class NumberBinding:
    def __init__(
        self, runtime: Runtime, guard: GuardStore, channel: str, limits: BindingLimits,
        clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.runtime, self.store, self.guard = runtime, runtime.store, guard
        self.channel, self.limits, self._now = channel, limits, clock

    def _keys(self, address: str) -> tuple[str, str, str]:
        chat = f"{self.channel}:{address}"
        return f"bind:ask:{chat}", f"bind:chat:{chat}", f"bind:req:{chat}"

    async def says(self, address: str, text: str) -> Outcome:
        """One message from a chat bound to nothing; the replies never tell whether an order exists."""
        now, text = self._now(), text.strip()
        ask_key, chat_key, request_key = self._keys(address)
        asked = await self.guard.get(ask_key, now)
        if asked is not None and len(text) <= 40 and _DIGITS.search(text) and order_number_in(text) != asked:
            return await self._check(address, asked, text, now)
        number = order_number_in(text) if len(text) <= 80 else None
        if number is None:
            requested = await self.guard.get(request_key, now)
            return await self._pending(request_key, requested) if requested else Outcome("common/start_help")
        locked = await self._locked(chat_key, number, now)
        if locked is not None:
            return locked
        await self.guard.put(ask_key, number, now, self.limits.question_ttl)
        return Outcome("common/ask_second_fact")

    async def _locked(self, chat_key: str, number: str, now: float) -> Outcome | None:
        tries = await self.guard.hits(chat_key, now, self.limits.chat_window)
        if len(tries) >= self.limits.chat_attempts:
            return _failed(0, tries[0] + self.limits.chat_window - now)
        until = await self.guard.get(f"bind:lock:{number}", now)
        if until is not None:
            return _failed(0, float(until) - now)
        return None

    async def _check(self, address: str, number: str, text: str, now: float) -> Outcome:
        ask_key, chat_key, request_key = self._keys(address)
        await self.guard.delete(ask_key)
        locked = await self._locked(chat_key, number, now)
        if locked is not None:
            return locked
        conversation, order = await self.store.load(number)
        if order is None or order.placed_at is None or not second_fact_matches(order.buyer, text):
            return await self._failure(chat_key, number, order is not None and order.placed_at is not None, now)
        request = secrets.token_hex(2)
        payload = {"channel": self.channel, "address": address, "via": "order_number", "request": request}
        source = f"bind:{self.channel}:{address}:{number}:{request}"
        await self.runtime.submit(Inbound(number, "buyer_bound", payload, source, self.runtime.clock.now()))
        if conversation is None or conversation.channel is None:
            return Outcome("", {"bound": number})  # the welcome comes through the outbox
        if (conversation.channel, conversation.address) == (self.channel, address):
            return Outcome("", {"bound": number})
        requested = f"{number}|{request}"
        await self.guard.put(request_key, requested, now, self.limits.request_ttl)
        return await self._pending(request_key, requested)

    async def _failure(self, chat_key: str, number: str, known: bool, now: float) -> Outcome:
        tries = await self.guard.hit(chat_key, now, self.limits.chat_window)
        on_order = await self.guard.hit(f"bind:order:{number}", now, self.limits.order_window)
        if len(on_order) >= self.limits.order_attempts:
            until = now + self.limits.order_lock
            if await self.guard.first(f"bind:locked:{number}", now, self.limits.order_lock):
                await self.guard.put(f"bind:lock:{number}", repr(until), now, self.limits.order_lock)
                if known:  # tell the team (an unknown number has nobody to protect)
                    await self._tell_agents(number, len(on_order), until)
        left = max(0, self.limits.chat_attempts - len(tries))
        wait = tries[0] + self.limits.chat_window - now if not left else self.limits.chat_window
        return _failed(left, wait)

    async def _tell_agents(self, number: str, failures: int, until: float) -> None:
        at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(until))
        payload = {"failures": failures, "until": at}
        source = f"bindlock:{number}:{int(until)}"
        await self.runtime.submit(Inbound(number, "binding_locked", payload, source, self.runtime.clock.now()))

    async def _pending(self, request_key: str, requested: str) -> Outcome:
        """A read-only status for a chat whose link request waits: no transcript, no personal data."""
        number, _, request = requested.partition("|")
        conversation, order = await self.store.load(number)
        asked = conversation.memory.get("link_requests", {}).get(request, {}) if conversation else {}
        if asked.get("state") == "refused":
            await self.guard.delete(request_key)
            return Outcome("common/binding_failed", {"locked": False})
        status = order.status if order is not None else "unknown"
        return Outcome("common/link_pending", {"order_id": number, "status": status})


def _failed(left: int, wait: float) -> Outcome:
    minutes = max(1, int(wait // 60))
    return Outcome("common/binding_failed", {"locked": left == 0, "attempts_left": left, "retry_minutes": minutes})
