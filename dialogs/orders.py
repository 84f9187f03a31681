"""Folding the store's order events into the bot's view of an order. Events may
arrive late, twice or out of order: the status never moves backwards."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from dialogs.model import Buyer, Item, Order

EVENT_TYPES = (
    "order.placed",
    "order.paid",
    "order.cancelled",
    "item.out_of_stock",
    "order.shipped",
    "order.at_customs",
    "order.awaiting_pickup",
    "order.delivered",
    "aftersales.opened",
    "dispute.opened",
    "feedback.left",
)

#: how far along the order is; a lower-ranked event never overwrites a higher status
_RANK = {
    "placed": 0,
    "paid": 1,
    "shipped": 2,
    "at_customs": 3,
    "awaiting_pickup": 4,
    "delivered": 5,
    "cancelled": 9,
}
_STATUS_OF = {
    "order.placed": "placed",
    "order.paid": "paid",
    "order.shipped": "shipped",
    "order.at_customs": "at_customs",
    "order.awaiting_pickup": "awaiting_pickup",
    "order.delivered": "delivered",
    "order.cancelled": "cancelled",
}


def normalise_phone(value: str | int | None) -> str | None:
    """E.164: '+' and digits; spaces, dashes, dots, brackets and a leading 00 dropped."""
    text = re.sub(r"[\s\-().]", "", str(value or ""))
    if text.startswith("00"):
        text = "+" + text[2:]
    digits = text.removeprefix("+")
    if not digits.isdigit() or not 6 <= len(digits) <= 15:
        return None
    return "+" + digits


def new_link_token() -> str:
    """An order's opaque link token: unguessable, and within Telegram's 64-char start parameter."""
    return secrets.token_urlsafe(18)


def trigger_for(event_type: str) -> str:
    """`order.paid` -> `order_paid`: the dialogs' name for the event."""
    return event_type.replace(".", "_")


def new_order(order_id: str) -> Order:
    return Order(order_id=order_id, buyer=Buyer(id=""))


def apply_event(order: Order, event_type: str, data: dict[str, Any], occurred_at: datetime) -> Order:
    """Return `order` with the event folded in (mutates and returns it)."""
    if event_type == "order.placed":
        _apply_placed(order, data, occurred_at)
    elif event_type == "order.paid":
        order.paid_at = order.paid_at or occurred_at
    elif event_type == "order.cancelled":
        order.closed_at = order.closed_at or occurred_at
    status = _STATUS_OF.get(event_type)
    if status is not None and _RANK[status] >= _RANK.get(order.status, -1):
        order.status = status
    if event_type != "order.placed":
        order.facts[event_type] = {**data, "occurred_at": occurred_at.isoformat()}
        if order.placed_at is None and event_type not in order.early:
            order.early.append(event_type)
    return order


def _apply_placed(order: Order, data: dict[str, Any], occurred_at: datetime) -> None:
    order.placed_at = order.placed_at or occurred_at
    order.buyer = Buyer.from_dict(data["buyer"])
    order.items = [Item.from_dict(item) for item in data.get("items", [])]
    total = data.get("total") or {}
    order.total_amount = str(total.get("amount", order.total_amount))
    order.currency = str(total.get("currency", order.currency))
    order.early = []
    if order.status == "unknown":
        order.status = "placed"


def is_unpaid(order: Order) -> bool:
    return order.status == "placed"
