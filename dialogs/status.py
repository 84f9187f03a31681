"""What the bot can say about where an order is, from the latest events."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from dialogs.base import Turn
from dialogs.calendar import local_date_text


def local_date(turn: Turn, moment: datetime | date) -> str:
    """A date in the buyer's own words, e.g. "24 November" / "24 ноября"."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(turn.buyer_tz).date()
    return local_date_text(moment, turn.conversation.language, turn.order.buyer.country)


def order_status(turn: Turn) -> dict[str, Any]:
    facts = turn.order.facts
    shipped = facts.get("order.shipped", {})
    pickup = facts.get("order.awaiting_pickup", {})
    eta = ""
    if shipped.get("eta_days") and shipped.get("occurred_at"):
        sent = datetime.fromisoformat(shipped["occurred_at"])
        eta = local_date(turn, sent + timedelta(days=int(shipped["eta_days"])))
    deadline = ""
    if pickup.get("pickup_deadline"):
        deadline = local_date(turn, _parse(pickup["pickup_deadline"]))
    return {
        "status": turn.order.status,
        "carrier": shipped.get("carrier", ""),
        "tracking_number": shipped.get("tracking_number", ""),
        "tracking_url": shipped.get("tracking_url", ""),
        "eta": eta,
        "office": pickup.get("office", ""),
        "deadline": deadline,
    }


def _parse(value: str) -> datetime | date:
    if len(value) == 10:
        return date.fromisoformat(value)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
