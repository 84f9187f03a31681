"""The unpaid-order journey: payment help for first-time buyers, the hesitation
nudge, the discount offer for the silent, then letting go. A buyer who answers
and goes quiet gets a gentle reminder, then the offer or a last reminder before
the platform would close the unpaid order, then the order is lost. Payment or
cancellation stops it at once."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from dialogs.base import Dialog, DialogModel
from dialogs.calendar import in_period
from dialogs.experiment import CONTROL, control_percent, group_of
from dialogs.locale_text import number
from dialogs.locale_text import percent as percent_text
from dialogs.model import Button, parse_time
from dialogs.status import local_date

ANY_OPEN = ["placed", "guide_sent", "nudged", "offer_made", "offer_accepted", "payment_claimed", "reminded",
            "last_called"]  # fmt: skip
#: resting states: nothing more is sent, but a late payment is still welcome
RESTING = ["lost", "declined", "unreachable"]
#: every path ends: where the platform's auto-close would still find the order open
BEFORE_CLOSE = [*ANY_OPEN, "declined"]
WHY_NOT_PAID = ("pay_later", "how_to_pay", "still_deciding", "wrong_item")


class UnpaidState(StrEnum):
    PLACED = "placed"
    GUIDE_SENT = "guide_sent"
    NUDGED = "nudged"
    OFFER_MADE = "offer_made"
    OFFER_ACCEPTED = "offer_accepted"
    PAYMENT_CLAIMED = "payment_claimed"
    #: the buyer answered and went quiet: a gentle reminder went out
    REMINDED = "reminded"
    #: the last reminder before the platform closes the unpaid order
    LAST_CALLED = "last_called"
    PAID = "paid"
    CANCELLED = "cancelled"
    LOST = "lost"
    DECLINED = "declined"
    #: the buyer never had a channel: a seller task, not "lost"
    UNREACHABLE = "unreachable"


class UnpaidModel(DialogModel):
    # conditions
    def first_order(self) -> bool:
        return self.turn.order.buyer.first_order

    def guide_still_timely(self) -> bool:
        """After downtime, a guide firing later than the nudge would is skipped."""
        unpaid = self.turn.policy.unpaid
        return self._lateness() < unpaid.nudge_after - unpaid.payment_help_after

    def nudge_still_timely(self) -> bool:
        unpaid = self.turn.policy.unpaid
        return self._lateness() < unpaid.offer_after - unpaid.nudge_after

    def _lateness(self) -> timedelta:
        due = parse_time(self.turn.payload.get("due_at"))
        return self.turn.now - due if due else timedelta(0)

    def offer_not_made(self) -> bool:
        return "offer_made_at" not in self.turn.conversation.memory

    # callbacks
    def plan_first_follow_up(self) -> None:
        unpaid = self.turn.policy.unpaid
        if self.turn.policy.guides.confirmation:
            self.confirm_order()
        percent = control_percent(self.turn.policy.raw)
        if percent:
            group = group_of(self.turn.order.order_id, percent)
            self.turn.conversation.memory["experiment"] = group
            if group == CONTROL:
                return  # no journey message; events and the buyer's questions are still answered
        if self.first_order():
            self.turn.schedule("payment_help", self._placed() + unpaid.payment_help_after)
        else:
            self.turn.schedule("nudge", self._placed() + unpaid.nudge_after)

    def ensure_an_end(self) -> None:
        """Off the silent path (the buyer answered, an offer was taken or an
        agent made one): the journey ends with the platform's auto-close, the
        offer or a last reminder the day before (the silent path ends with
        `abandon`). Armed once; re-armed if the order was lost already."""
        if "close" in self.turn.conversation.memory.get("timers", {}):
            return
        unpaid = self.turn.policy.unpaid
        closes = max(self._placed() + unpaid.auto_close_after, self.turn.now + unpaid.remind_after_answer)
        if closes - unpaid.last_call_before > self.turn.now:
            self.turn.schedule("last_call", closes - unpaid.last_call_before, urgent=True)
        self.turn.schedule("close", closes, internal=True)

    def plan_reminder(self) -> None:
        """The buyer answered: the journey's steps stop; one gentle reminder later."""
        self.ensure_an_end()
        self.turn.cancel("payment_help", "nudge", "offer", "abandon")
        due = self.turn.now + self.turn.policy.unpaid.remind_after_answer
        last_call = self.turn.conversation.memory.get("timers", {}).get("last_call")
        if last_call is None or due < datetime.fromisoformat(last_call):
            self.turn.schedule("reminder", due)

    def send_gentle_reminder(self) -> None:
        self.turn.say("unpaid/gentle_reminder", ["paid_already", "payment_failed", "talk_to_person"])

    def send_last_reminder(self) -> None:
        self.turn.cancel("reminder")
        closes = self._placed() + self.turn.policy.unpaid.auto_close_after
        self.turn.say("unpaid/last_call", ["paid_already", "talk_to_person"], closes_on=local_date(self.turn, closes))

    def confirm_order(self) -> None:
        """The guides' order confirmation: thanks, items, total, ships once paid."""
        locale = self.turn.locale
        items = [
            {"title": i.title, "qty": number(i.qty, locale), "price": self.turn.money(i.price)}
            for i in self.turn.order.items
        ]
        self.turn.say("unpaid/confirmation", items=items)

    def send_payment_help(self) -> None:
        guide = Button("payment_guide", url=self.turn.policy.unpaid.payment_help_url)
        self.turn.say(
            "unpaid/payment_help",
            [guide, "paid_already", "payment_failed", "talk_to_person"],
            help_url=self.turn.policy.unpaid.payment_help_url,
        )
        self.plan_nudge()

    def plan_nudge(self) -> None:
        self.turn.schedule("nudge", self._placed() + self.turn.policy.unpaid.nudge_after)

    def send_nudge(self) -> None:
        self.turn.say("unpaid/nudge", ["paid_already", *WHY_NOT_PAID], **self._scarcity())
        self.plan_offer()

    def plan_offer(self) -> None:
        self.turn.schedule("offer", self._placed() + self.turn.policy.unpaid.offer_after)

    def send_offer(self) -> None:
        self.turn.cancel("offer")
        offer = self._offer_text(self._discount())
        self.turn.say("unpaid/offer", ["accept_offer", "decline_offer", "talk_to_person"], **offer)
        self.turn.conversation.memory["offer_made_at"] = self.turn.now.isoformat()
        self.turn.conversation.buyer_replied = False
        self.turn.schedule("abandon", self.turn.now + self.turn.policy.unpaid.abandon_after)

    def send_agent_offer(self) -> None:
        """An agent's /offer: the percent they chose, within the policy's ceiling."""
        self.turn.say("unpaid/offer", ["accept_offer", "decline_offer"], **self._offer_text(self._discount()))
        self.turn.conversation.memory["offer_made_at"] = self.turn.now.isoformat()
        self.turn.conversation.buyer_replied = False
        self.turn.schedule("abandon", self.turn.now + self.turn.policy.unpaid.abandon_after)
        self.ensure_an_end()

    def accept_offer(self) -> None:
        self.ensure_an_end()
        self.turn.cancel("abandon", "reminder")
        discount = self._discount()
        self.turn.task("adjust_price", order_id=self.turn.order.order_id, **discount)
        self.turn.say("unpaid/offer_accepted", **self._offer_text(discount))

    def decline_offer(self) -> None:
        self.ensure_an_end()
        self.turn.cancel("abandon", "reminder")
        self.turn.say("unpaid/offer_declined")

    def mark_lost(self) -> None:
        self.turn.cancel(*UnpaidJourney.timers)
        self.turn.task("order_lost", order_id=self.turn.order.order_id)

    def never_reached(self) -> bool:
        """The buyer never had a channel: the journey went nowhere."""
        return not self.turn.conversation.channel

    def report_unreachable(self) -> None:
        self.turn.cancel(*UnpaidJourney.timers)
        self.turn.task("buyer_not_reachable", order_id=self.turn.order.order_id, reason="no channel bound")

    def thank_for_payment(self) -> None:
        self.turn.cancel(*UnpaidJourney.timers)
        self.turn.say("unpaid/paid_thanks")

    def stop_quietly(self) -> None:
        self.turn.cancel(*UnpaidJourney.timers)

    def acknowledge_payment_claim(self) -> None:
        self.turn.cancel("nudge", "offer", "abandon")
        self.turn.say("unpaid/payment_claimed")
        self.turn.schedule_in("payment_check", self.turn.policy.unpaid.nudge_after)

    def report_payment_not_seen(self) -> None:
        self.turn.say("unpaid/payment_not_seen", ["payment_failed", "talk_to_person"])
        self.plan_reminder()

    def reply(self, template: str, *buttons: str) -> None:
        self.turn.say(template, list(buttons))
        self.plan_reminder()

    def explain_pay_later(self) -> None:
        self.turn.say("unpaid/pay_later", ["paid_already"], stock_left=self._scarcity()["stock_left"])
        self.plan_reminder()

    def explain_payment_methods(self) -> None:
        self.reply("unpaid/payment_methods", "paid_already", "payment_failed", "talk_to_person")

    def explain_payment_failed(self) -> None:
        self.reply("unpaid/payment_failed", "paid_already", "talk_to_person")

    def explain_order_change(self) -> None:
        self.reply("unpaid/change_order", "talk_to_person")

    def explain_cancellation(self) -> None:
        self.reply("unpaid/how_to_cancel", "talk_to_person")

    # helpers
    def _placed(self) -> Any:
        return self.turn.order.placed_at or self.turn.now

    def _discount(self) -> dict[str, Any]:
        """The offer in plain numbers (for the seller's task): a capped discount
        is the maximum amount, never the percent it no longer is."""
        unpaid = self.turn.policy.unpaid
        percent = unpaid.discount_percent
        memory = self.turn.conversation.memory
        if self.turn.inbound.trigger == "agent_offered":
            ceiling = Decimal(str(self.turn.policy.raw.get("handoff", {}).get("max_offer_percent", 10)))
            memory["offer_percent"] = str(min(Decimal(str(self.turn.payload.get("percent", percent))), ceiling))
        percent = Decimal(memory.get("offer_percent", percent))
        total = Decimal(self.turn.order.total_amount or "0")
        wanted = (total * percent / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
        off = min(wanted, unpaid.discount_max.quantize(Decimal("0.01")))
        return {
            "percent": str(percent.normalize()),
            "capped": wanted > off,
            "discount": str(off),
            "new_total": str((total - off).quantize(Decimal("0.01"))),
        }

    def _offer_text(self, discount: dict[str, Any]) -> dict[str, Any]:
        """The same offer as the buyer reads it, in the buyer's locale."""
        return {
            "percent": percent_text(discount["percent"], self.turn.locale),
            "capped": discount["capped"],
            "discount": self.turn.money(discount["discount"]),
            "new_total": self.turn.money(discount["new_total"]),
        }

    def _scarcity(self) -> dict[str, Any]:
        """What the nudge may truly say: the sale, the stock left, the item's
        own record (best seller, rating), and a large quantity."""
        policy, order, tz = self.turn.policy, self.turn.order, self.turn.buyer_tz
        unpaid = policy.unpaid
        promotion = next((p.name for p in policy.promotions if in_period(self.turn.now, tz, p.start, p.end)), None)
        stocks = [i.stock_left for i in order.items if i.stock_left is not None]
        stock_left = min(stocks) if stocks else None
        low = stock_left is not None and stock_left < unpaid.low_stock_threshold
        first = order.items[0] if order.items else None
        praise, rating = "", ""
        if first is not None and first.best_seller:
            praise = "best_seller"
        elif first is not None and first.rating is not None and Decimal(str(first.rating)) >= unpaid.praise_rating_from:
            praise, rating = "rating", number(first.rating, self.turn.locale)
        quantity = sum(i.qty for i in order.items)
        return {
            "promotion": promotion,
            "stock_left": stock_left if (low or promotion) else None,
            "praise": praise,
            "rating": rating,
            "large_order": quantity >= unpaid.large_order_quantity,
            "quantity": number(quantity, self.turn.locale),
        }


S = UnpaidState
_WAITING = [S.PLACED, S.GUIDE_SENT, S.NUDGED, S.OFFER_MADE, S.REMINDED, S.LAST_CALLED]

TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "order_placed", "source": S.PLACED, "dest": None,
     "conditions": "order_unpaid", "after": "plan_first_follow_up"},
    {"trigger": "payment_help_due", "source": S.PLACED, "dest": S.GUIDE_SENT,
     "conditions": ["order_unpaid", "guide_still_timely"], "after": "send_payment_help"},
    {"trigger": "payment_help_due", "source": S.PLACED, "dest": None,
     "conditions": "order_unpaid", "after": "plan_nudge"},
    {"trigger": "nudge_due", "source": [S.PLACED, S.GUIDE_SENT], "dest": S.NUDGED,
     "conditions": ["order_unpaid", "nudge_still_timely"], "after": "send_nudge"},
    {"trigger": "nudge_due", "source": [S.PLACED, S.GUIDE_SENT], "dest": S.NUDGED,
     "conditions": "order_unpaid", "after": "plan_offer"},
    {"trigger": "offer_due", "source": S.NUDGED, "dest": S.OFFER_MADE,
     "conditions": ["order_unpaid", "buyer_silent"], "after": "send_offer"},
    {"trigger": "abandon_due", "source": S.OFFER_MADE, "dest": S.UNREACHABLE,
     "conditions": ["order_unpaid", "never_reached"], "after": "report_unreachable"},
    {"trigger": "abandon_due", "source": S.OFFER_MADE, "dest": S.LOST,
     "conditions": ["order_unpaid", "buyer_silent"], "after": "mark_lost"},
    # the buyer wrote something no step took (thanks, hello): off the silent path
    {"trigger": "offer_due", "source": S.NUDGED, "dest": None, "conditions": "order_unpaid", "after": "plan_reminder"},
    {"trigger": "abandon_due", "source": S.OFFER_MADE, "dest": None, "conditions": "order_unpaid",
     "after": "plan_reminder"},
    {"trigger": "payment_check_due", "source": S.PAYMENT_CLAIMED, "dest": S.NUDGED,
     "conditions": "order_unpaid", "after": "report_payment_not_seen"},
    # every path ends: a buyer who answered and went quiet
    {"trigger": "reminder_due", "source": [*_WAITING, S.REMINDED], "dest": S.REMINDED,
     "conditions": "order_unpaid", "after": "send_gentle_reminder"},
    {"trigger": "last_call_due", "source": [S.PLACED, S.GUIDE_SENT, S.NUDGED, S.REMINDED], "dest": S.OFFER_MADE,
     "conditions": ["order_unpaid", "offer_not_made"], "after": "send_offer"},
    {"trigger": "last_call_due", "source": BEFORE_CLOSE, "dest": S.LAST_CALLED,
     "conditions": "order_unpaid", "after": "send_last_reminder"},
    {"trigger": "close_due", "source": BEFORE_CLOSE, "dest": S.UNREACHABLE,
     "conditions": ["order_unpaid", "never_reached"], "after": "report_unreachable"},
    {"trigger": "close_due", "source": BEFORE_CLOSE, "dest": S.LOST, "conditions": "order_unpaid",
     "after": "mark_lost"},
    {"trigger": "order_paid", "source": ANY_OPEN + RESTING, "dest": S.PAID, "after": "thank_for_payment"},
    {"trigger": "order_cancelled", "source": ANY_OPEN + RESTING, "dest": S.CANCELLED, "after": "stop_quietly"},
    # the buyer's answers
    {"trigger": "answered_paid_already", "source": _WAITING, "dest": S.PAYMENT_CLAIMED,
     "after": "acknowledge_payment_claim"},
    {"trigger": "answered_pay_later", "source": _WAITING, "dest": None, "after": "explain_pay_later"},
    {"trigger": "answered_how_to_pay", "source": ANY_OPEN, "dest": None, "after": "explain_payment_methods"},
    {"trigger": "answered_payment_failed", "source": ANY_OPEN, "dest": None,
     "after": "explain_payment_failed"},
    {"trigger": "answered_wrong_item", "source": ANY_OPEN, "dest": None, "after": "explain_order_change"},
    {"trigger": "answered_cancel", "source": ANY_OPEN, "dest": None, "after": "explain_cancellation"},
    {"trigger": "answered_still_deciding", "source": [S.PLACED, S.GUIDE_SENT, S.NUDGED, S.REMINDED],
     "dest": S.OFFER_MADE, "conditions": "offer_not_made", "after": "send_offer"},
    {"trigger": "answered_still_deciding", "source": _WAITING, "dest": None, "after": "explain_pay_later"},
    {"trigger": "answered_too_expensive", "source": [S.PLACED, S.GUIDE_SENT, S.NUDGED, S.REMINDED],
     "dest": S.OFFER_MADE, "conditions": "offer_not_made", "after": "send_offer"},
    {"trigger": "agent_offered", "source": ANY_OPEN + RESTING, "dest": S.OFFER_MADE, "after": "send_agent_offer"},
    {"trigger": "answered_accept_offer", "source": S.OFFER_MADE, "dest": S.OFFER_ACCEPTED,
     "after": "accept_offer"},
    {"trigger": "answered_yes", "source": S.OFFER_MADE, "dest": S.OFFER_ACCEPTED, "after": "accept_offer"},
    {"trigger": "answered_decline_offer", "source": S.OFFER_MADE, "dest": S.DECLINED,
     "after": "decline_offer"},
    {"trigger": "answered_no", "source": S.OFFER_MADE, "dest": S.DECLINED, "after": "decline_offer"},
]  # fmt: skip


class UnpaidJourney(Dialog):
    name = "unpaid"
    states = UnpaidState
    initial = S.PLACED
    final = frozenset({S.PAID, S.CANCELLED})
    outcomes = frozenset({S.LOST, S.UNREACHABLE})
    transitions = TRANSITIONS
    model = UnpaidModel
    starts_on = ("order_placed",)
    timers = ("payment_help", "nudge", "offer", "abandon", "payment_check", "reminder", "last_call", "close")
