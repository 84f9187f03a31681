"""Which orders a WhatsApp number talks about: bound before, the order's own
phone, or the order number plus its total (3 tries per number per hour)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.channels.telegram_binding import order_number_in, parse_amount, same_amount
from dialogs.orders import normalise_phone
from dialogs.ports import Store

MAX_ATTEMPTS = 3
ATTEMPT_WINDOW = timedelta(hours=1)
REMEMBERED = 10_000


@dataclass
class Attempt:
    order_id: str | None = None
    failures: list[datetime] = field(default_factory=list)


@dataclass(frozen=True)
class Reply:
    """What to tell an unbound number: a template name and its context."""

    template: str
    context: dict[str, object] = field(default_factory=dict)
    #: set when the number has just proved an order
    bound_order: str | None = None


class WhatsAppBinder:
    channel = "whatsapp"

    def __init__(self, store: Store) -> None:
        self.store = store
        self._attempts: OrderedDict[str, Attempt] = OrderedDict()

    async def conversations(self, phone: str) -> list[str]:
        """Orders bound to `phone`, adopting the orders placed with this phone if none are."""
        bound = await self.store.bound(self.channel, phone)
        if bound:
            return bound
        for conversation in await self.store.conversations():
            if conversation.channel == self.channel and normalise_phone(conversation.address) == phone:
                await self.store.bind(self.channel, phone, conversation.id)
        return await self.store.bound(self.channel, phone)

    async def unbound_says(self, phone: str, text: str, now: datetime) -> Reply:
        """One message from a number with no order: ask, check, never tell whether an order exists."""
        attempt = self._attempts.setdefault(phone, Attempt())
        self._attempts.move_to_end(phone)
        while len(self._attempts) > REMEMBERED:
            self._attempts.popitem(last=False)
        attempt.failures = [t for t in attempt.failures if now - t < ATTEMPT_WINDOW]
        if len(attempt.failures) >= MAX_ATTEMPTS:
            retry = attempt.failures[0] + ATTEMPT_WINDOW - now
            minutes = max(1, int(retry.total_seconds() // 60))
            return Reply("common/binding_failed", {"attempts_left": 0, "locked": True, "retry_minutes": minutes})
        if attempt.order_id is None:
            candidate = order_number_in(text)
            if candidate is None:
                return Reply("common/start_help")
            attempt.order_id = candidate
            return Reply("common/ask_second_fact", {"order_id": candidate})
        order_id, attempt.order_id = attempt.order_id, None
        if await self._total_matches(order_id, text):
            self._attempts.pop(phone, None)
            return Reply("common/welcome_bound", bound_order=order_id)
        attempt.failures.append(now)
        left = MAX_ATTEMPTS - len(attempt.failures)
        return Reply("common/binding_failed", {"attempts_left": left, "locked": left == 0, "retry_minutes": 60})

    async def _total_matches(self, order_id: str, text: str) -> bool:
        _, order = await self.store.load(order_id)
        given = parse_amount(text)
        if order is None or order.placed_at is None or given is None:
            return False
        return same_amount(given, order.total_amount)
