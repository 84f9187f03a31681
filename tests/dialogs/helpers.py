"""A tiny harness around the pure `DialogEngine.decide`: it keeps the state
between calls like the store would, on a virtual clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dialogs.catalog import all_dialogs
from dialogs.engine import DialogEngine
from dialogs.model import Commit, Conversation, Inbound, Order, Timer
from dialogs.policy import Policy, policy_from_dict

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # Monday, 13:00 in Madrid


class Clock:
    def __init__(self) -> None:
        self.current = T0

    def now(self) -> datetime:
        return self.current


class Harness:
    def __init__(self, policy: dict[str, Any] | None = None, order_id: str = "O-1") -> None:
        self.clock = Clock()
        # quiet hours off unless a test is about them: timings stay easy to read
        defaults: dict[str, Any] = {"quiet_hours": {"start": "00:00", "end": "00:00"}}
        self.policy: Policy = policy_from_dict({**defaults, **(policy or {})})
        self.engine = DialogEngine(all_dialogs(), self.policy, self.clock)
        self.order_id = order_id
        self.conversation: Conversation | None = None
        self.order: Order | None = None
        self.timers: dict[str, Timer] = {}
        self.said: list[str] = []
        self.tasks: list[dict[str, Any]] = []
        self.n = 0

    def _apply(self, change: Commit) -> Commit:
        self.conversation, self.order = change.conversation, change.order
        for name in change.timers_cancelled:
            self.timers.pop(name, None)
        self.timers.update({t.name: t for t in change.timers_set})
        self.said += [m.template for m in change.outbox]
        self.tasks += change.tasks
        return change

    def send(self, trigger: str, **payload: Any) -> Commit:
        self.n += 1
        inbound = Inbound(self.order_id, trigger, payload, f"src-{self.n}", self.clock.now())
        timer_current = True
        if trigger == "follow_up_due":
            timer = self.timers.get(payload["timer"])
            timer_current = timer is not None and timer.due_at.isoformat() == payload["due_at"]
        return self._apply(self.engine.decide(self.conversation, self.order, inbound, timer_current=timer_current))

    def event(self, kind: str, **data: Any) -> Commit:
        payload = {
            "type": kind,
            "order_id": self.order_id,
            "data": data,
            "occurred_at": self.clock.now().isoformat(),
        }
        return self.send("order_event", **payload)

    def placed(
        self, first_order: bool = True, country: str = "ES", total: float = 20.0, chat: int | None = 4242, **items: Any
    ) -> Commit:
        """`chat`: the buyer's Telegram chat (None: a buyer with no channel at all)."""
        buyer = {"id": "b", "name": "Ann", "language": "en", "country": country, "first_order": first_order,
                 "telegram_chat_id": chat}  # fmt: skip
        item = {"sku": "S", "title": "Lamp", "price": total, **items}
        return self.event("order.placed", buyer=buyer, items=[item], total={"amount": total, "currency": "USD"})

    def says(self, text: str, **extra: Any) -> Commit:
        return self.send("buyer_message", text=text, channel="webchat", address="s", **extra)

    def presses(self, action: str, dialog: str | None = None) -> Commit:
        current = dialog if dialog is not None else (self.conversation.dialog if self.conversation else "")
        return self.send("button_pressed", action=action, dialog=current, channel="webchat", address="s")

    def fire(self, name: str) -> Commit:
        """Move the clock to the timer and let it fire."""
        timer = self.timers[name]
        self.clock.current = max(self.clock.current, timer.due_at)
        return self.send("follow_up_due", timer=name, due_at=timer.due_at.isoformat())

    def fire_all(self, until: timedelta) -> list[str]:
        """Fire timers in due order up to `until` from now; the templates said."""
        start, end = len(self.said), self.clock.current + until
        while self.timers:
            timer = min(self.timers.values(), key=lambda t: t.due_at)
            if timer.due_at > end:
                break
            self.fire(timer.name)
        self.clock.current = max(self.clock.current, end)
        return self.said[start:]

    def advance(self, delta: timedelta) -> None:
        self.clock.current += delta

    @property
    def state(self) -> str | None:
        return self.conversation.state if self.conversation else None
