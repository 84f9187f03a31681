"""A scripted set of unpaid orders on a policy of seconds, each buyer in the
web chat: paid at once, after the guide, after the nudge, after the offer
(taking the discount), lost, cancelled, and two in the control group. What the
funnel must then say about them is `EXPECTED`."""

from __future__ import annotations

from decimal import Decimal

from dialogs.experiment import CONTROL, TREATED, group_of
from tests.e2e.process import BotProcess, placed_event, simple_event

CONTROL_PERCENT = 30
FUNNEL_POLICY = f"""
[unpaid]
payment_help_after = "2s"
nudge_after = "4s"
offer_after = "6s"
abandon_after = "3s"
[quiet_hours]
start = "00:00"
end = "00:00"
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


def run_script(bot: BotProcess) -> None:
    """Places the orders and plays each buyer; returns when all outcomes are settled."""
    buyers = {}
    for order_id in (PAID_AT_ONCE, AFTER_GUIDE, AFTER_NUDGE, AFTER_OFFER, LOST, CANCELLED, CONTROL_PAID,
                     CONTROL_UNPAID):  # fmt: skip
        assert bot.post_event(placed_event(order_id)).status_code == 202
        buyers[order_id] = bot.bind_web_chat(order_id)
        assert "linked to your order" in buyers[order_id].next_reply()["text"]
    pay = lambda order_id: bot.post_event(simple_event(order_id, "order.paid"))  # noqa: E731
    pay(PAID_AT_ONCE)
    bot.post_event(simple_event(CANCELLED, "order.cancelled", reason="buyer"))
    assert "Step-by-step" in buyers[AFTER_GUIDE].next_reply()["text"]
    pay(AFTER_GUIDE)
    for order_id in (AFTER_NUDGE, AFTER_OFFER, LOST):
        assert "Step-by-step" in buyers[order_id].next_reply()["text"]
        assert "Pay for order" in buyers[order_id].next_reply()["text"]
    pay(AFTER_NUDGE)
    offer = buyers[AFTER_OFFER].next_reply()
    assert "3% off" in offer["text"]
    buyers[AFTER_OFFER].presses(offer, "accept_offer")
    buyers[AFTER_OFFER].next_reply()
    pay(AFTER_OFFER)
    assert "3% off" in buyers[LOST].next_reply()["text"]
    assert buyers[CONTROL_PAID].silence(0.5) == [] and buyers[CONTROL_UNPAID].silence(0.5) == []
    pay(CONTROL_PAID)
    # the lost order is let go 3 s after its offer; nothing reaches the control group meanwhile
    assert buyers[CONTROL_UNPAID].silence(4) == []
