"""`to_dict` is written out by hand (for speed): it must stay what
`dataclasses.asdict` gives, with datetimes and enums as strings."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from dialogs.model import Buyer, Conversation, Item, Order, OutboxMessage, OutboxStatus, Ownership

T = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def plain(value: Any) -> Any:
    """asdict's result with datetimes and str-enums the way JSON keeps them."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Ownership | OutboxStatus):
        return str(value)
    return value


def test_order_to_dict_matches_asdict() -> None:
    buyer = Buyer("b1", "Ann", "en", "US", "Europe/Paris", True, 42, "+100")
    order = Order(
        "o1", buyer, [Item("s1", "Case", "u", 2, "9.99", 3), Item("s2", "Cable")], "21.98", "EUR", "paid",
        placed_at=T, paid_at=T, closed_at=None, facts={"order.shipped": {"tracking": "LP1"}}, early=["x"],
    )  # fmt: skip
    assert order.to_dict() == plain(dataclasses.asdict(order))
    assert Order.from_dict(order.to_dict()) == order


def test_conversation_to_dict_matches_asdict() -> None:
    conv = Conversation(
        "c1", "o1", "unpaid", "nudged", 3, Ownership.AGENT, "ru", "telegram", "42", True, 1, True,
        {"timers": {"offer": T.isoformat()}, "paused_timers": {}}, T,
    )  # fmt: skip
    assert conv.to_dict() == plain(dataclasses.asdict(conv))
    assert Conversation.from_dict(conv.to_dict()) == conv


def test_outbox_to_dict_matches_asdict() -> None:
    message = OutboxMessage(
        "m1", "c1", "unpaid.nudge", {"buyer_name": "Ann", "nested": {"a": [1]}}, [{"action": "pay", "url": None}],
        "en", 2, T, "telegram", "42", OutboxStatus.SENT, 1, "tg-1", None, T,
    )  # fmt: skip
    assert message.to_dict() == plain(dataclasses.asdict(message))
    assert OutboxMessage.from_dict(message.to_dict()) == message


def test_every_field_is_written() -> None:
    for cls in (Buyer, Item, Order, Conversation, OutboxMessage):
        names = [f.name for f in dataclasses.fields(cls)]
        sample = {
            Buyer: Buyer("b"),
            Item: Item("s", "t"),
            Order: Order("o", Buyer("b")),
            Conversation: Conversation("c", "o"),
            OutboxMessage: OutboxMessage("m", "c", "t", {}, [], "en", 0, T),
        }[cls]
        assert list(sample.to_dict()) == names, cls.__name__
