"""A parcel waiting at the buyer's post office: remind them to collect it with
the notice, every few days, once more shortly before the deadline, then bring
in a person; stop the moment it is delivered."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from dialogs.base import Dialog, DialogModel
from dialogs.handoff import hand_off
from dialogs.status import local_date


class PickupState(StrEnum):
    WAITING_FOR_PICKUP = "waiting_for_pickup"
    LAST_REMINDER_SENT = "last_reminder_sent"
    DEADLINE_PASSED = "deadline_passed"
    PICKED_UP = "picked_up"
    CLOSED = "closed"


class PickupModel(DialogModel):
    def deadline(self) -> datetime | None:
        raw = self.turn.order.facts.get("order.awaiting_pickup", {}).get("pickup_deadline")
        if not raw:
            return None
        if len(str(raw)) == 10:  # a date: the office closes at the end of that local day
            return datetime.combine(date.fromisoformat(raw), time(23, 59), self.turn.buyer_tz).astimezone(UTC)
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))

    def _context(self) -> dict[str, Any]:
        deadline = self.deadline()
        office = self.turn.order.facts.get("order.awaiting_pickup", {}).get("office", "")
        return {"office": office, "deadline": local_date(self.turn, deadline) if deadline else ""}

    def remind(self) -> None:
        self.turn.say("pickup/reminder", **self._context())
        self._plan()

    def remind_last(self) -> None:
        self.turn.cancel("reminder")
        self.turn.say("pickup/last_reminder", **self._context())

    def flag_agent(self) -> None:
        self.turn.task("pickup_deadline_passed", order_id=self.turn.order.order_id, **self._context())
        hand_off(self.turn, "pickup_deadline_passed", quietly=True)

    def stop(self) -> None:
        self.turn.cancel(*PickupDialog.timers)

    def _planning_deadline(self) -> datetime:
        """The real deadline, or (none given) the usual holding period from the notice."""
        deadline = self.deadline()
        if deadline is not None:
            return deadline
        facts = self.turn.order.facts.get("order.awaiting_pickup", {})
        noticed = datetime.fromisoformat(facts["occurred_at"]) if facts.get("occurred_at") else self.turn.now
        return noticed + self.turn.policy.timing("pickup.holding_period", "15d")

    def _plan(self) -> None:
        policy, now = self.turn.policy, self.turn.now
        every = policy.timing("pickup.repeat_every", "3d")
        before = policy.timing("pickup.last_reminder_before", "2d")
        deadline = self._planning_deadline()
        last = deadline - before
        if now + every < last:
            self.turn.schedule("reminder", now + every)
        if last > now:
            self.turn.schedule("last_reminder", last, urgent=True)
        self.turn.schedule("deadline", max(deadline, now) + timedelta(minutes=1), internal=True)


S = PickupState
_OPEN = [S.WAITING_FOR_PICKUP, S.LAST_REMINDER_SENT]

TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "order_awaiting_pickup", "source": _OPEN, "dest": S.WAITING_FOR_PICKUP, "after": "remind"},
    {"trigger": "reminder_due", "source": S.WAITING_FOR_PICKUP, "dest": None, "after": "remind"},
    {"trigger": "last_reminder_due", "source": S.WAITING_FOR_PICKUP, "dest": S.LAST_REMINDER_SENT,
     "after": "remind_last"},
    {"trigger": "deadline_due", "source": _OPEN, "dest": S.DEADLINE_PASSED, "after": "flag_agent"},
    {"trigger": "order_delivered", "source": [*_OPEN, S.DEADLINE_PASSED], "dest": S.PICKED_UP, "after": "stop"},
    {"trigger": "order_cancelled", "source": list(S), "dest": S.CLOSED, "after": "stop"},
]  # fmt: skip


class PickupDialog(Dialog):
    name = "pickup"
    states = PickupState
    initial = S.WAITING_FOR_PICKUP
    final = frozenset({S.PICKED_UP, S.CLOSED})
    outcomes = frozenset({S.DEADLINE_PASSED})
    transitions = TRANSITIONS
    model = PickupModel
    starts_on = ("order_awaiting_pickup",)
    timers = ("reminder", "last_reminder", "deadline")
