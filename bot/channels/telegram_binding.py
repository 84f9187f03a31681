"""Reading what a buyer types while binding a chat: an order number in a short
message, and tolerant amount parsing."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_ORDER_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,39}")
_AMOUNT = re.compile(r"\d[\d\s.,']*")


def order_number_in(text: str) -> str | None:
    """The order number a short message seems to give ("8123456789", "order #TG-7")."""
    if len(text) > 80:
        return None
    tokens = [t for t in _ORDER_TOKEN.findall(text) if any(c.isdigit() for c in t)]
    return max(tokens, key=len) if tokens else None


def parse_amount(text: str) -> Decimal | None:
    """ "25", "25.00", "25,00", "$25.00", "25 USD", "1 234,50" -> Decimal; None if no number."""
    found = _AMOUNT.search(text)
    if found is None:
        return None
    raw = re.sub(r"[\s']", "", found.group()).rstrip(".,")
    if "," in raw and "." in raw:
        # the separator that comes last is the decimal one
        thousands = "," if raw.rfind(",") < raw.rfind(".") else "."
        raw = raw.replace(thousands, "").replace(",", ".")
    elif "," in raw:
        head, _, tail = raw.rpartition(",")
        raw = f"{head.replace(',', '')}.{tail}" if len(tail) <= 2 else raw.replace(",", "")
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


def same_amount(given: Decimal, total: str) -> bool:
    try:
        return given == Decimal(total)
    except InvalidOperation:
        return False
