"""A scripted set of unpaid orders on a policy of seconds (steps 5 s apart:
room for a loaded machine), each buyer in the web chat: paid at once, after
the guide, after the nudge, after the offer (taking the discount), lost,
cancelled, and two in the control group. What the funnel must then say about
them is `EXPECTED`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dialogs.experiment import CONTROL, TREATED, group_of
from tests.e2e.process import BotProcess, WebBuyer, placed_event, simple_event

CONTROL_PERCENT = 30
FUNNEL_POLICY = f"""
[unpaid]
payment_help_after = "3s"
nudge_after = "8s"
offer_after = "13s"
abandon_after = "4s"
[quiet_hours]
start = "00:00"
end = "00:00"
[follow_ups]
min_gap = "0s"
[experiment]
control_percent = {CONTROL_PERCENT}
"""


def ids_in(group: str, count: int, prefix: str) -> list[str]:
    """Order ids the stable hash puts in `group`."""
    found, n = [], 0
    while len(found) < count:
        candidate = f"{prefix}{n}"
        if group_of(candidate, Decimal(CONTROL_PERCENT)) == group:
            found.append(candidate)
        n += 1
    return found


PAID_AT_ONCE, AFTER_GUIDE, AFTER_NUDGE, AFTER_OFFER, LOST, CANCELLED = ids_in(TREATED, 6, "F-")
CONTROL_PAID, CONTROL_UNPAID = ids_in(CONTROL, 2, "K-")

EXPECTED = {
    "orders": 8,
    "paid_without_message": 2,  # one treated order paid at once, one control order
    "paid_after": {"payment_help": 1, "nudge": 1, "offer": 1},
    "lost": 1,
    "cancelled": 1,
    "revenue_recovered": {"USD": "60.00"},
    "discount_cost": {"USD": "0.60"},
    "control": {"orders": 2, "paid": 1},
    "treated": {"orders": 6, "paid": 4},
}


def until(buyer: WebBuyer, text: str) -> dict[str, Any]:
    """The buyer's next message saying `text`, passing over others (welcome, order confirmation)."""
    for _ in range(5):
        reply = buyer.next_reply()
        if text in reply["text"]:
            return reply
    raise AssertionError(f"no message with {text!r}")


def run_script(bot: BotProcess) -> None:
    """Places the orders and plays each buyer; returns when all outcomes are settled."""
    buyers = {}
    pay = lambda order_id: bot.post_event(simple_event(order_id, "order.paid"))  # noqa: E731
    for order_id in (PAID_AT_ONCE, AFTER_GUIDE, AFTER_NUDGE, AFTER_OFFER, LOST, CANCELLED, CONTROL_PAID,
                     CONTROL_UNPAID):  # fmt: skip
        assert bot.post_event(placed_event(order_id)).status_code == 202
        if order_id == PAID_AT_ONCE:
            pay(order_id)  # long before its guide is due
        buyers[order_id] = bot.bind_web_chat(order_id)
    bot.post_event(simple_event(CANCELLED, "order.cancelled", reason="buyer"))
    until(buyers[AFTER_GUIDE], "Step-by-step")
    pay(AFTER_GUIDE)
    for order_id in (AFTER_NUDGE, AFTER_OFFER, LOST):
        until(buyers[order_id], "Step-by-step")
        until(buyers[order_id], "Pay for order")
    pay(AFTER_NUDGE)
    offer = until(buyers[AFTER_OFFER], "3% off")
    buyers[AFTER_OFFER].presses(offer, "accept_offer")
    buyers[AFTER_OFFER].next_reply()
    pay(AFTER_OFFER)
    until(buyers[LOST], "3% off")
    for order_id in (CONTROL_PAID, CONTROL_UNPAID):
        journey = [m for m in buyers[order_id].silence(0.5) if "Step-by-step" in m["text"] or "% off" in m["text"]]
        assert journey == [], "the control group gets no journey message"
    pay(CONTROL_PAID)
    # the lost order is let go 4 s after its offer; nothing reaches the control group meanwhile
    assert [m for m in buyers[CONTROL_UNPAID].silence(5) if "Pay for order" in m["text"]] == []
