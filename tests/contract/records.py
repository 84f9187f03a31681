"""Small builders of realistic domain records for the store contract tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dialogs.model import (
    Buyer,
    Commit,
    Conversation,
    Inbound,
    Item,
    Order,
    OutboxMessage,
    TranscriptEntry,
)

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def inbound(source_id: str, conversation_id: str = "c1", minutes: int = 0) -> Inbound:
    payload = {"text": "hi", "n": minutes}
    return Inbound(conversation_id, "buyer.message", payload, source_id, T0 + timedelta(minutes=minutes))


def order(order_id: str = "o1") -> Order:
    buyer = Buyer(id="b1", name="Анна Петрова", language="ru", country="RU", telegram_chat_id=424242)
    items = [
        Item(sku="SKU-1", title="Wireless earbuds, black", url="https://shop.example/p/1", price="19.90"),
        Item(sku="SKU-2", title="Silicone case", qty=2, price="3.50", stock_left=4),
    ]
    facts = {"order.shipped": {"carrier": "CAINIAO", "tracking": "LP00123456789CN"}}
    return Order(order_id, buyer, items, "26.90", "USD", "shipped", placed_at=T0, paid_at=T0, facts=facts)


def conversation(conversation_id: str = "c1", **changes: object) -> Conversation:
    conv = Conversation(conversation_id, order_id="o1", dialog="delivery", state="shipped", step=3)
    conv.language, conv.channel, conv.address = "ru", "telegram", "424242"
    conv.memory = {"reminders": 1}
    conv.last_buyer_message_at = T0
    for name, value in changes.items():
        setattr(conv, name, value)
    return conv


def message(message_id: str, conversation_id: str = "c1", **changes: object) -> OutboxMessage:
    msg = OutboxMessage(message_id, conversation_id, "delivery.shipped", {"tracking": "LP1"}, [], "ru", 3, T0)
    for name, value in changes.items():
        setattr(msg, name, value)
    return msg


def entry(text: str, conversation_id: str = "c1", author: str = "buyer") -> TranscriptEntry:
    return TranscriptEntry(conversation_id, T0, author, text)


def commit(source_id: str = "src-1", conversation_id: str = "c1", **changes: object) -> Commit:
    change = Commit(conversation(conversation_id), order(), source_id)
    for name, value in changes.items():
        setattr(change, name, value)
    return change
