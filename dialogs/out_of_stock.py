"""Out of stock on a paid order: apologise, offer up to three alternatives or
the cancellation (with the refund date in business days), remind after a day,
bring in a person after two."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from dialogs.base import Dialog, DialogModel, Turn
from dialogs.calendar import add_business_days
from dialogs.handoff import hand_off
from dialogs.model import Button, Item
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

    def _missing_item(self) -> Item | None:
        sku = self.turn.order.facts.get("item.out_of_stock", {}).get("sku")
        return next((i for i in self.turn.order.items if i.sku == sku), None)

    def _priced(self, alternative: dict[str, Any]) -> dict[str, Any]:
        """An alternative's price against the missing item's: the same or less
        (the difference refunded), or more: the store covers up to the policy's
        amount, the buyer is told the rest. Raw amounts, for the seller's task."""
        missing = self._missing_item()
        try:
            price = Decimal(str(alternative.get("price")))
            paid = Decimal(str(missing.price)) if missing else None
        except InvalidOperation:
            return {"kind": "unknown"}
        if paid is None:
            return {"kind": "unknown"}
        qty = missing.qty if missing else 1
        difference = ((price - paid) * qty).quantize(Decimal("0.01"))
        if difference <= 0:
            return {"kind": "same" if difference == 0 else "cheaper", "difference": str(-difference)}
        covered = min(difference, self.turn.policy.guides.seller_absorbs_up_to.quantize(Decimal("0.01")))
        kind = "covered" if covered == difference else "extra"
        return {"kind": kind, "difference": str(difference), "covered": str(covered),
                "buyer_pays": str(difference - covered)}  # fmt: skip

    def _shown(self) -> list[dict[str, Any]]:
        """The alternatives as the buyer reads them, amounts in the buyer's locale."""
        shown = []
        for alternative in self.alternatives():
            priced = self._priced(alternative)
            money = {k: self.turn.money(v) for k, v in priced.items() if k != "kind"}
            price = alternative["price"]
            shown.append({**alternative, "price": self.turn.money(price) if price not in ("", None) else "",
                          "kind": priced["kind"], "difference": money.get("difference", ""),
                          "covered": money.get("covered", ""), "buyer_pays": money.get("buyer_pays", "")})  # fmt: skip
        return shown

    def _buttons(self) -> list[Button]:
        buttons = [
            Button(action=f"choose_alt_{i}", label=_short(alt.get("title", ""), 20))
            for i, alt in enumerate(self.alternatives(), 1)
        ]
        return [*buttons, Button("cancel_order"), Button("talk_to_person")]

    def _context(self) -> dict[str, Any]:
        missing = self._missing_item()
        shown = self._shown()
        return {
            "missing_title": missing.title if missing else self.turn.base_context()["item_title"],
            "alternatives": shown,
            "no_extra_cost": bool(shown) and all(a["kind"] in ("same", "cheaper", "covered") for a in shown),
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
        choice, priced = alternatives[index - 1], self._priced(alternatives[index - 1])
        self.turn.task("replace_item", order_id=self.turn.order.order_id, alternative=choice, price=priced)
        shown = self._shown()[index - 1]
        self.turn.say("out_of_stock/alternative_chosen", choice_title=choice.get("title", ""), kind=shown["kind"],
                      difference=shown["difference"], buyer_pays=shown["buyer_pays"])  # fmt: skip

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
