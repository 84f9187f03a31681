"""Shipping and after-sales service messages: shipped, at customs, delivered,
then two days later "how did it go?". A review is asked for only after the
buyer says they are happy; feedback gets thanks or a person."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from dialogs.base import Dialog, DialogModel
from dialogs.calendar import add_business_days
from dialogs.handoff import hand_off
from dialogs.model import parse_time
from dialogs.status import local_date, order_status


class ShippingState(StrEnum):
    SHIPPED = "shipped"
    AT_CUSTOMS = "at_customs"
    DELIVERED = "delivered"
    CHECKING = "checking"
    ASKING_PROBLEM = "asking_problem"
    HAPPY = "happy"
    FEEDBACK_THANKED = "feedback_thanked"
    ESCALATED = "escalated"
    CLOSED = "closed"


class ShippingModel(DialogModel):
    def announce_shipment(self) -> None:
        updates_by = add_business_days(self.turn.now, 2, self.turn.order.buyer.country, self.turn.buyer_tz)
        self.turn.say("shipping/shipped", **order_status(self.turn), updates_by=local_date(self.turn, updates_by))

    def announce_customs(self) -> None:
        shipped = parse_time(self.turn.order.facts.get("order.shipped", {}).get("occurred_at"))
        slow_after = self.turn.policy.timing("shipping.customs_slow_after", "15d")
        slow = shipped is not None and self.turn.now - shipped > slow_after
        self.turn.say("shipping/at_customs", slow=slow, **order_status(self.turn))

    def plan_check(self) -> None:
        self.turn.say("shipping/delivered")
        self.turn.schedule_in("check", self.turn.policy.timing("shipping.check_after", "2d"))

    def ask_how_it_went(self) -> None:
        self.turn.say("shipping/how_did_it_go", ["all_good", "problem"])
        # no answer is an answer too: the platform confirms receipt by itself
        self.turn.schedule_in("close", self.turn.policy.timing("shipping.close_after", "7d"), internal=True)

    def thank_and_ask_feedback(self) -> None:
        self.turn.cancel("close")
        self.turn.say("shipping/happy")

    def ask_what_is_wrong(self) -> None:
        self.turn.cancel("close")
        self.turn.say("shipping/what_is_wrong", ["not_working", "damaged_item", "talk_to_person"])
        # a problem the buyer did not describe: a person looks at it
        self.turn.schedule_in("agent", self.turn.policy.timing("shipping.problem_agent_after", "24h"), internal=True)

    def escalate_undescribed_problem(self) -> None:
        hand_off(self.turn, "problem_not_described", quietly=True)

    def feedback_positive(self) -> bool:
        return int(self.turn.order.facts.get("feedback.left", {}).get("stars", 0)) >= 4

    def thank_for_feedback(self) -> None:
        self.turn.cancel(*ShippingDialog.timers)
        self.turn.say("shipping/feedback_thanks")

    def escalate_feedback(self) -> None:
        self.turn.cancel(*ShippingDialog.timers)
        hand_off(self.turn, "negative_feedback")

    def stop(self) -> None:
        self.turn.cancel(*ShippingDialog.timers)

    def _since(self, key: str) -> timedelta:
        at: datetime | None = parse_time(self.turn.order.facts.get(key, {}).get("occurred_at"))
        return self.turn.now - at if at else timedelta(0)


S = ShippingState
_ANY = list(S)
_BEFORE_DELIVERY = [S.SHIPPED, S.AT_CUSTOMS]

TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "order_shipped", "source": S.SHIPPED, "dest": S.SHIPPED, "after": "announce_shipment"},
    {"trigger": "order_at_customs", "source": _BEFORE_DELIVERY, "dest": S.AT_CUSTOMS, "after": "announce_customs"},
    {"trigger": "order_delivered", "source": _BEFORE_DELIVERY, "dest": S.DELIVERED, "after": "plan_check"},
    {"trigger": "check_due", "source": S.DELIVERED, "dest": S.CHECKING, "after": "ask_how_it_went"},
    {"trigger": "answered_all_good", "source": [S.DELIVERED, S.CHECKING], "dest": S.HAPPY,
     "after": "thank_and_ask_feedback"},
    {"trigger": "answered_yes", "source": S.CHECKING, "dest": S.HAPPY, "after": "thank_and_ask_feedback"},
    {"trigger": "answered_thanks", "source": S.CHECKING, "dest": S.HAPPY, "after": "thank_and_ask_feedback"},
    {"trigger": "answered_problem", "source": [S.DELIVERED, S.CHECKING], "dest": S.ASKING_PROBLEM,
     "after": "ask_what_is_wrong"},
    {"trigger": "answered_no", "source": S.CHECKING, "dest": S.ASKING_PROBLEM, "after": "ask_what_is_wrong"},
    {"trigger": "close_due", "source": S.CHECKING, "dest": S.CLOSED, "after": "stop"},
    {"trigger": "agent_due", "source": S.ASKING_PROBLEM, "dest": S.ESCALATED, "after": "escalate_undescribed_problem"},
    {"trigger": "feedback_left", "source": _ANY, "dest": S.FEEDBACK_THANKED, "conditions": "feedback_positive",
     "after": "thank_for_feedback"},
    {"trigger": "feedback_left", "source": _ANY, "dest": S.ESCALATED, "after": "escalate_feedback"},
    {"trigger": "order_cancelled", "source": _ANY, "dest": S.CLOSED, "after": "stop"},
]  # fmt: skip


class ShippingDialog(Dialog):
    name = "shipping"
    states = ShippingState
    initial = S.SHIPPED
    final = frozenset({S.CLOSED})
    outcomes = frozenset({S.HAPPY, S.FEEDBACK_THANKED, S.ESCALATED})
    transitions = TRANSITIONS
    model = ShippingModel
    starts_on = ("order_shipped", "order_at_customs", "order_delivered", "feedback_left")
    timers = ("check", "close", "agent")
