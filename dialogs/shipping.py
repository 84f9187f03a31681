"""Shipping and after-sales service messages: shipped, at customs (duties and
paperwork where the policy says), a note when the parcel goes quiet, an apology
and a seller task once the ETA has passed, delivered, then two days later a
question that fits the product. A review is asked for only after the buyer says
they are happy; a return is told who pays its shipping; feedback gets thanks or
a person."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from dialogs.base import Dialog, DialogModel, Turn
from dialogs.calendar import add_business_days
from dialogs.handoff import hand_off
from dialogs.model import parse_time
from dialogs.status import local_date, order_status


class ShippingState(StrEnum):
    SHIPPED = "shipped"
    AT_CUSTOMS = "at_customs"
    #: past the carrier's ETA: apologised, and the seller checks the parcel (task)
    LATE = "late"
    DELIVERED = "delivered"
    CHECKING = "checking"
    ASKING_PROBLEM = "asking_problem"
    HAPPY = "happy"
    FEEDBACK_THANKED = "feedback_thanked"
    ESCALATED = "escalated"
    RETURN_REQUESTED = "return_requested"
    CLOSED = "closed"


def product_kind(turn: Turn) -> str:
    """ "device", "clothing" or "other", from the first item's optional category."""
    first = turn.order.items[0] if turn.order.items else None
    category = (first.category if first else "").strip().lower()
    guides = turn.policy.guides
    if category in guides.device_categories:
        return "device"
    return "clothing" if category in guides.clothing_categories else "other"


#: the problems a buyer can pick, by kind of product ("doesn't fit" is a return)
PROBLEM_BUTTONS = {
    "device": ["not_working", "damaged_item", "return_item", "talk_to_person"],
    "clothing": ["return_item", "damaged_item", "talk_to_person"],
    "other": ["not_working", "damaged_item", "return_item", "talk_to_person"],
}


class ShippingModel(DialogModel):
    def announce_shipment(self) -> None:
        updates_by = add_business_days(self.turn.now, 2, self.turn.order.buyer.country, self.turn.buyer_tz)
        self.turn.say("shipping/shipped", **order_status(self.turn), updates_by=local_date(self.turn, updates_by))
        self._watch_transit()
        eta = self._eta()
        if eta is not None:
            self.turn.schedule("eta", eta + self.turn.policy.guides.eta_grace)

    def announce_customs(self) -> None:
        shipped = parse_time(self.turn.order.facts.get("order.shipped", {}).get("occurred_at"))
        slow_after = self.turn.policy.timing("shipping.customs_slow_after", "15d")
        slow = shipped is not None and self.turn.now - shipped > slow_after
        guides, country = self.turn.policy.guides, (self.turn.order.buyer.country or "").upper()
        self.turn.say("shipping/at_customs", slow=slow, duties=country in guides.customs_duties,
                      declaration=country in guides.customs_declaration, **order_status(self.turn))  # fmt: skip
        self._watch_transit()

    def plan_check(self) -> None:
        self.turn.cancel("transit", "eta")
        self.turn.say("shipping/delivered")
        self.turn.schedule_in("check", self.turn.policy.timing("shipping.check_after", "2d"))

    # transit: quiet parcels and a passed ETA
    def _eta(self) -> datetime | None:
        shipped = self.turn.order.facts.get("order.shipped", {})
        at = parse_time(shipped.get("occurred_at"))
        if at is None:
            return None
        try:
            days = int(shipped.get("eta_days") or 0)
        except (TypeError, ValueError):
            days = 0
        # no ETA from the carrier: assume one, so a quiet parcel still ends in a check, never a wait forever
        return at + (timedelta(days=days) if days > 0 else self.turn.policy.timing("shipping.assumed_eta", "30d"))

    def _watch_transit(self) -> None:
        self.turn.schedule_in("transit", self.turn.policy.guides.transit_update_after)

    def eta_passed(self) -> bool:
        eta = self._eta()
        return eta is not None and self.turn.now > eta

    def send_transit_update(self) -> None:
        """Once per quiet stretch: the next tracking event starts a new one."""
        self.turn.say("shipping/transit_update", late=self.eta_passed(), **order_status(self.turn))
        eta = self._eta()  # an updated order.shipped may have moved it: the apology stays planned
        if eta is not None and not self.eta_passed() and "eta" not in self.turn.conversation.memory.get("timers", {}):
            self.turn.schedule("eta", eta + self.turn.policy.guides.eta_grace)

    def apologise_for_delay(self) -> None:
        self.turn.cancel("transit")  # the apology says it all; no "still on its way" beside it
        self.turn.say("shipping/transit_late", **order_status(self.turn))
        self.turn.task("check_parcel", order_id=self.turn.order.order_id, **self._tracking())

    def _tracking(self) -> dict[str, Any]:
        shipped = self.turn.order.facts.get("order.shipped", {})
        return {k: shipped.get(k, "") for k in ("carrier", "tracking_number", "eta_days")}

    def ask_how_it_went(self) -> None:
        self.turn.say("shipping/how_did_it_go", ["all_good", "problem"], kind=product_kind(self.turn))
        # no answer is an answer too: the platform confirms receipt by itself
        self.turn.schedule_in("close", self.turn.policy.timing("shipping.close_after", "7d"), internal=True)

    def explain_return(self) -> None:
        """Who pays the return shipping (the guides: more than 5 returns in a month,
        the buyer pays for unconditional returns); a person arranges the rest."""
        returns = self.turn.order.buyer.returns_this_month
        limit = self.turn.policy.guides.free_returns_per_month
        buyer_pays = returns is not None and returns >= limit
        self.turn.cancel("check", "close", "agent")
        self.turn.say("shipping/return_shipping", buyer_pays=buyer_pays, free_returns=limit)
        self.turn.task("return_requested", order_id=self.turn.order.order_id, returns_this_month=returns,
                       buyer_pays_return_shipping=buyer_pays)  # fmt: skip
        hand_off(self.turn, "return_requested", quietly=True)

    def thank_and_ask_feedback(self) -> None:
        self.turn.cancel("close")
        self.turn.say("shipping/happy")

    def ask_what_is_wrong(self) -> None:
        self.turn.cancel("close")
        self.turn.say("shipping/what_is_wrong", PROBLEM_BUTTONS[product_kind(self.turn)])
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
_IN_TRANSIT = [S.SHIPPED, S.AT_CUSTOMS]
_BEFORE_DELIVERY = [*_IN_TRANSIT, S.LATE]

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
    # the seller guides: transit updates, a passed ETA, returns
    {"trigger": "transit_due", "source": _IN_TRANSIT, "dest": S.LATE, "conditions": "eta_passed",
     "after": "apologise_for_delay"},
    {"trigger": "transit_due", "source": _IN_TRANSIT, "dest": None, "after": "send_transit_update"},
    {"trigger": "eta_due", "source": _IN_TRANSIT, "dest": S.LATE, "after": "apologise_for_delay"},
    {"trigger": "answered_return_item", "source": [S.DELIVERED, S.CHECKING, S.ASKING_PROBLEM, S.HAPPY],
     "dest": S.RETURN_REQUESTED, "after": "explain_return"},
]  # fmt: skip


class ShippingDialog(Dialog):
    name = "shipping"
    states = ShippingState
    initial = S.SHIPPED
    final = frozenset({S.CLOSED})
    outcomes = frozenset({S.HAPPY, S.FEEDBACK_THANKED, S.ESCALATED, S.RETURN_REQUESTED, S.LATE})
    transitions = TRANSITIONS
    model = ShippingModel
    starts_on = ("order_shipped", "order_at_customs", "order_delivered", "feedback_left")
    timers = ("check", "transit", "eta", "close", "agent")
