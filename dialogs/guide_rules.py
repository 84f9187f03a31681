"""Seller-guide rules that belong to no single dialog: the default dispute
deadline, the buyer-protection watch, the after-sales window (shorter for
seasonal goods) and the review of repeated refund-only requests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dialogs.base import Turn
from dialogs.model import Order, parse_time
from dialogs.status import local_date

#: internal follow-ups: seller work that runs whoever owns the chat, at any hour
INTERNAL_TIMERS = ("protection",)
#: what opens or continues an after-sales request, by event or by the buyer
AFTERSALES_TRIGGERS = frozenset(
    {"aftersales_opened", "answered_not_working", "answered_damaged_item", "answered_return_item"}
)


def on_event(turn: Turn, event_type: str, occurred: datetime) -> None:
    """Called for every order event after it is folded into the order."""
    if event_type == "dispute.opened":
        _default_dispute_deadline(turn, occurred)
    if event_type in ("dispute.opened", "aftersales.opened"):
        _count_refund_only(turn, event_type)
    if event_type == "order.shipped":
        _watch_protection(turn, occurred)


def _default_dispute_deadline(turn: Turn, occurred: datetime) -> None:
    """The platform gives 5 days to answer a dispute when it names no date; the
    seller's task says by when (the agents' card shows it too)."""
    dispute = turn.order.facts.get("dispute.opened", {})
    if not dispute.get("respond_by"):
        respond_by = occurred + turn.policy.guides.dispute_respond_within
        dispute["respond_by"] = respond_by.isoformat()
        dispute["respond_by_default"] = True
    given = not dispute.get("respond_by_default")
    turn.task("answer_dispute", order_id=turn.order.order_id, reason=dispute.get("reason", ""),
              respond_by=dispute["respond_by"], date_given_by_platform=given)  # fmt: skip


def _count_refund_only(turn: Turn, event_type: str) -> None:
    data: dict[str, Any] = turn.order.facts.get(event_type, {})
    if not (data.get("refund_only") or data.get("reason") == "refund_only"):
        return
    memory = turn.conversation.memory
    memory["refund_only_requests"] = int(memory.get("refund_only_requests", 0)) + 1
    total = int(turn.order.buyer.refund_only_requests or 0) + memory["refund_only_requests"]
    threshold = turn.policy.guides.refund_only_review_at
    if threshold and total >= threshold and not memory.get("refund_review_asked"):
        memory["refund_review_asked"] = True
        turn.task("review_refund_requests", order_id=turn.order.order_id, buyer_id=turn.order.buyer.id,
                  refund_only_requests=total, threshold=threshold)  # fmt: skip


def protection_ends(order: Order, turn: Turn) -> datetime | None:
    shipped = parse_time(order.facts.get("order.shipped", {}).get("occurred_at"))
    if shipped is None:
        return None
    return shipped + turn.policy.guides.protection(order.buyer.country or "")


def _watch_protection(turn: Turn, shipped: datetime) -> None:
    ends = protection_ends(turn.order, turn)
    if ends is not None:
        turn.schedule("protection", max(ends - turn.policy.guides.protection_warn_before, turn.now), urgent=True)


def protection_due(turn: Turn) -> None:
    """Shortly before the buyer's protection ends, the parcel not delivered:
    the seller extends the buyer's receipt time (the platform's button)."""
    if turn.order.status in ("delivered", "cancelled"):
        return
    ends = protection_ends(turn.order, turn)
    turn.task("extend_receipt_time", order_id=turn.order.order_id, status=turn.order.status,
              protection_ends=ends.isoformat() if ends else None)  # fmt: skip


def aftersales_window_end(turn: Turn) -> datetime | None:
    """When after-sales closes: 15 days after delivery for seasonal items,
    90 days after payment for the others (policy); the latest item decides.
    None while it cannot have closed yet (not paid, seasonal not delivered)."""
    order, guides = turn.order, turn.policy.guides
    delivered = parse_time(order.facts.get("order.delivered", {}).get("occurred_at"))
    ends: list[datetime] = []
    for item in order.items or []:
        start = delivered if item.seasonal else order.paid_at
        if start is None:
            return None
        ends.append(start + (guides.seasonal_window if item.seasonal else guides.aftersales_window))
    return max(ends) if ends else None


def answer_outside_window(turn: Turn, trigger: str) -> bool:
    """A request after the window: an honest answer and a seller decision,
    not the full flow. False when the window is still open."""
    ends = aftersales_window_end(turn)
    if ends is None or turn.now <= ends:
        return False
    seasonal = any(item.seasonal for item in turn.order.items)
    guides = turn.policy.guides
    window = guides.seasonal_window if seasonal else guides.aftersales_window
    if not turn.conversation.memory.get("outside_window_told"):
        turn.conversation.memory["outside_window_told"] = True
        turn.task("aftersales_outside_window", order_id=turn.order.order_id, request=trigger,
                  window_ended=ends.isoformat(), seasonal=seasonal)  # fmt: skip
    turn.say("common/aftersales_closed", seasonal=seasonal, days=_days(window), window_end=local_date(turn, ends))
    return True


def _days(window: timedelta) -> int:
    return max(int(window.total_seconds() // 86400), 1)
