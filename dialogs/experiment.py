"""The control group of the unpaid journey: `[experiment] control_percent` of
the unpaid orders (a stable hash of the order id, so a replay or a second
process puts an order in the same group) get no unpaid-journey message, so
the funnel can tell what the messages add."""

from __future__ import annotations

import hashlib
from decimal import Decimal, InvalidOperation
from typing import Any

CONTROL = "control"
TREATED = "treated"
BUCKETS = 10_000


def control_percent(raw_policy: dict[str, Any]) -> Decimal:
    """From the policy's `[experiment]` section: 0 (the default) to 100."""
    value = raw_policy.get("experiment", {}).get("control_percent", 0)
    try:
        percent = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"[experiment] control_percent must be a number, not {value!r}") from None
    if not Decimal(0) <= percent <= Decimal(100):
        raise ValueError(f"[experiment] control_percent must be between 0 and 100, not {value!r}")
    return percent


def bucket(order_id: str) -> int:
    digest = hashlib.sha256(f"experiment:{order_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def group_of(order_id: str, percent: Decimal) -> str:
    return CONTROL if bucket(order_id) < percent * BUCKETS / 100 else TREATED
