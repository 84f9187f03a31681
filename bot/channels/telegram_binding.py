"""Binding a Telegram chat by order number plus a second fact (the total):
per-chat pending questions, an attempt limit, and tolerant amount parsing."""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

PENDING_TTL = 15 * 60.0
ATTEMPT_WINDOW = 3600.0
MAX_ATTEMPTS = 3
_ORDER_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,39}")
_AMOUNT = re.compile(r"\d[\d\s.,']*")


def order_number_in(text: str) -> str | None:
    """The order number a short message seems to give ("8123456789", "order #TG-7")."""
    if len(text) > 80:
        return None
    tokens = [t for t in _ORDER_TOKEN.findall(text) if any(c.isdigit() for c in t)]
    return max(tokens, key=len) if tokens else None


def parse_amount(text: str) -> Decimal | None:
    """ "25", "25.00", "25,00", "$25.00", "25 USD", "1 234,50" -> Decimal; None if no number."""
    found = _AMOUNT.search(text)
    if found is None:
        return None
    raw = re.sub(r"[\s']", "", found.group()).rstrip(".,")
    if "," in raw and "." in raw:
        # the separator that comes last is the decimal one
        thousands = "," if raw.rfind(",") < raw.rfind(".") else "."
        raw = raw.replace(thousands, "").replace(",", ".")
    elif "," in raw:
        head, _, tail = raw.rpartition(",")
        raw = f"{head.replace(',', '')}.{tail}" if len(tail) <= 2 else raw.replace(",", "")
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


def same_amount(given: Decimal, total: str) -> bool:
    try:
        return given == Decimal(total)
    except InvalidOperation:
        return False


@dataclass
class PendingBinding:
    #: None when the number matched no order: the buyer must not be able to tell
    order_id: str | None
    total: str
    expires: float


class BindingAttempts:
    """In memory per process: a restart forgets a pending question, which only
    means the buyer types the order number again."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._now = clock
        self._pending: dict[int, PendingBinding] = {}
        self._tries: dict[int, deque[float]] = {}

    def ask(self, chat_id: int, order_id: str | None, total: str) -> None:
        self._sweep()
        self._pending[chat_id] = PendingBinding(order_id, total, self._now() + PENDING_TTL)

    def pending(self, chat_id: int) -> PendingBinding | None:
        entry = self._pending.get(chat_id)
        if entry is not None and entry.expires < self._now():
            del self._pending[chat_id]
            return None
        return entry

    def take(self, chat_id: int) -> PendingBinding | None:
        """The pending question, consumed, counting one attempt."""
        entry = self.pending(chat_id)
        self._pending.pop(chat_id, None)
        self._tries.setdefault(chat_id, deque()).append(self._now())
        return entry

    def exhausted(self, chat_id: int) -> bool:
        return self.attempts_left(chat_id) == 0

    def attempts_left(self, chat_id: int) -> int:
        tries = self._tries.get(chat_id)
        while tries and tries[0] < self._now() - ATTEMPT_WINDOW:
            tries.popleft()
        return max(0, MAX_ATTEMPTS - len(tries or ()))

    def failed_context(self, chat_id: int) -> dict[str, object]:
        """The context of common/binding_failed (shared with the WhatsApp door)."""
        left = self.attempts_left(chat_id)
        tries = self._tries.get(chat_id)
        wait = (tries[0] + ATTEMPT_WINDOW - self._now()) if tries and not left else ATTEMPT_WINDOW
        return {"locked": left == 0, "attempts_left": left, "retry_minutes": max(1, int(wait // 60))}

    def _sweep(self) -> None:
        now = self._now()
        for chat_id in [c for c, p in self._pending.items() if p.expires < now]:
            del self._pending[chat_id]
        for chat_id in [c for c, t in self._tries.items() if not t or t[-1] < now - ATTEMPT_WINDOW]:
            del self._tries[chat_id]
