"""Out of stock on a paid order: apologise, offer up to three alternatives or
the cancellation (with the refund date in business days), remind after a day,
bring in a person after two."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from dialogs.base import Dialog, DialogModel, Turn
from dialogs.calendar import add_business_days
from dialogs.handoff import hand_off
from dialogs.model import Button
from dialogs.status import local_date

MAX_ALTERNATIVES = 3
REFUND_BUSINESS_DAYS = 7


class OutOfStockState(StrEnum):
    OFFERED = "offered"
    REMINDED = "reminded"
    ALTERNATIVE_CHOSEN = "alternative_chosen"
    CANCELLATION_EXPLAINED = "cancellation_explained"
    ESCALATED = "escalated"
    CLOSED = "closed"


class OutOfStockModel(DialogModel):
    def alternatives(self) -> list[dict[str, Any]]:
        data = self.turn.order.facts.get("item.out_of_stock", {})
        offered = [a for a in data.get("alternatives", []) if isinstance(a, dict)][:MAX_ALTERNATIVES]
        # every field present, so templates never meet a missing one
        return [
            {"title": str(a.get("title", "")), "url": str(a.get("url", "")), "price": a.get("price", "")}
            for a in offered
        ]

    def _buttons(self) -> list[Button]:
        buttons = [
            Button(action=f"choose_alt_{i}", label=_short(alt.get("title", ""), 20))
            for i, alt in enumerate(self.alternatives(), 1)
        ]
        return [*buttons, Button("cancel_order"), Button("talk_to_person")]

    def _context(self) -> dict[str, Any]:
        data = self.turn.order.facts.get("item.out_of_stock", {})
        missing = next((i.title for i in self.turn.order.items if i.sku == data.get("sku")), None)
        return {
            "missing_title": missing or self.turn.base_context()["item_title"],
            "alternatives": self.alternatives(),
        }

    def offer_alternatives(self) -> None:
        self.turn.say("out_of_stock/apology", self._buttons(), **self._context())
        policy = self.turn.policy
        self.turn.schedule_in("reminder", policy.timing("out_of_stock.reminder_after", "24h"))
        self.turn.schedule_in("agent", policy.timing("out_of_stock.agent_after", "48h"), internal=True)

    def remind(self) -> None:
        self.turn.say("out_of_stock/reminder", self._buttons(), **self._context())

    def _chosen(self, index: int) -> None:
        self.turn.cancel("reminder", "agent")
        alternatives = self.alternatives()
        if index > len(alternatives):
            return
        choice = alternatives[index - 1]
        self.turn.task("replace_item", order_id=self.turn.order.order_id, alternative=choice)
        self.turn.say("out_of_stock/alternative_chosen", choice_title=choice.get("title", ""))

    def has_1(self) -> bool:
        return len(self.alternatives()) >= 1

    def has_2(self) -> bool:
        return len(self.alternatives()) >= 2

    def has_3(self) -> bool:
        return len(self.alternatives()) >= 3

    def choose_1(self) -> None:
        self._chosen(1)

    def choose_2(self) -> None:
        self._chosen(2)

    def choose_3(self) -> None:
        self._chosen(3)

    def explain_cancellation(self) -> None:
        self.turn.cancel("reminder")  # the "agent" timer stays: a person checks the cancellation came
        country = self.turn.order.buyer.country
        refund_by = add_business_days(self.turn.now, REFUND_BUSINESS_DAYS, country, self.turn.buyer_tz)
        self.turn.say("out_of_stock/how_to_cancel", refund_date=local_date(self.turn, refund_by),
                      business_days=REFUND_BUSINESS_DAYS)  # fmt: skip

    def escalate(self) -> None:
        hand_off(self.turn, "out_of_stock_unanswered")

    def check_cancellation(self) -> None:
        """Told how to cancel, and no cancellation came: a person follows it up."""
        hand_off(self.turn, "out_of_stock_not_cancelled", quietly=True)

    def stop(self) -> None:
        self.turn.cancel(*OutOfStockDialog.timers)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


S = OutOfStockState
_OPEN = [S.OFFERED, S.REMINDED]

TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "item_out_of_stock", "source": [*_OPEN, S.ALTERNATIVE_CHOSEN, S.CANCELLATION_EXPLAINED],
     "dest": S.OFFERED, "after": "offer_alternatives"},
    {"trigger": "reminder_due", "source": S.OFFERED, "dest": S.REMINDED, "after": "remind"},
    {"trigger": "agent_due", "source": _OPEN, "dest": S.ESCALATED, "after": "escalate"},
    {"trigger": "agent_due", "source": S.CANCELLATION_EXPLAINED, "dest": S.ESCALATED,
     "after": "check_cancellation"},
    {"trigger": "answered_choose_alt_1", "source": _OPEN, "dest": S.ALTERNATIVE_CHOSEN, "after": "choose_1",
     "conditions": "has_1"},
    {"trigger": "answered_choose_alt_2", "source": _OPEN, "dest": S.ALTERNATIVE_CHOSEN, "after": "choose_2",
     "conditions": "has_2"},
    {"trigger": "answered_choose_alt_3", "source": _OPEN, "dest": S.ALTERNATIVE_CHOSEN, "after": "choose_3",
     "conditions": "has_3"},
    {"trigger": "answered_cancel_order", "source": _OPEN, "dest": S.CANCELLATION_EXPLAINED,
     "after": "explain_cancellation"},
    {"trigger": "answered_cancel", "source": _OPEN, "dest": S.CANCELLATION_EXPLAINED,
     "after": "explain_cancellation"},
    {"trigger": "order_cancelled", "source": list(S), "dest": S.CLOSED, "after": "stop"},
]  # fmt: skip


class OutOfStockDialog(Dialog):
    name = "out_of_stock"
    states = OutOfStockState
    initial = S.OFFERED
    final = frozenset({S.CLOSED})
    outcomes = frozenset({S.ALTERNATIVE_CHOSEN, S.ESCALATED})
    transitions = TRANSITIONS
    model = OutOfStockModel
    starts_on = ("item_out_of_stock",)
    timers = ("reminder", "agent")

    def may_start(self, turn: Turn) -> bool:
        return turn.order.status not in ("placed", "cancelled")
