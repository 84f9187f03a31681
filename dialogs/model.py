"""Channel-neutral domain records: orders, conversations, inbound triggers and
the outbound intents the dialogs produce. Plain dataclasses, JSON round-trip."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from dialogs.records import OutboxMessage as OutboxMessage
from dialogs.records import OutboxStatus as OutboxStatus
from dialogs.records import Timer as Timer
from dialogs.records import TranscriptEntry as TranscriptEntry
from dialogs.records import iso as iso
from dialogs.records import parse_time as parse_time

#: the languages buyers are written to; anything else falls back to English
LANGUAGES = ("en", "ru", "es", "pt", "fr")


def supported_language(code: object) -> str | None:
    """ "pt-BR" -> "pt"; None for a language we don't write in."""
    short = str(code or "").lower().replace("_", "-").split("-")[0]
    return short if short in LANGUAGES else None


class Ownership(StrEnum):
    BOT = "bot"
    WAITING = "waiting"
    AGENT = "agent"


@dataclass
class Buyer:
    id: str
    name: str = ""
    language: str = ""
    country: str = ""
    timezone: str | None = None
    first_order: bool = False
    telegram_chat_id: int | None = None
    whatsapp_phone: str | None = None
    #: the order's phone and delivery postal code: facts a stranger cannot look up
    phone: str | None = None
    postal_code: str | None = None
    #: the store's counts for this buyer, when it sends them (returns rule, refund-only review)
    returns_this_month: int | None = None
    refund_only_requests: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "country": self.country,
            "timezone": self.timezone,
            "first_order": self.first_order,
            "telegram_chat_id": self.telegram_chat_id,
            "whatsapp_phone": self.whatsapp_phone,
            "phone": self.phone,
            "postal_code": self.postal_code,
            "returns_this_month": self.returns_this_month,
            "refund_only_requests": self.refund_only_requests,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Buyer:
        return cls(**{k: v for k, v in data.items() if k in _BUYER_FIELDS})


@dataclass
class Item:
    sku: str
    title: str
    url: str = ""
    qty: int = 1
    price: str = "0"
    stock_left: int | None = None
    #: optional facts the texts may rely on: buyers' rating (of 5), a best seller,
    #: the product category (devices, clothing...), a seasonal item (shorter after-sales)
    rating: float | None = None
    best_seller: bool = False
    category: str = ""
    seasonal: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "title": self.title,
            "url": self.url,
            "qty": self.qty,
            "price": self.price,
            "stock_left": self.stock_left,
            "rating": self.rating,
            "best_seller": self.best_seller,
            "category": self.category,
            "seasonal": self.seasonal,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Item:
        values = {k: v for k, v in data.items() if k in _ITEM_FIELDS}
        values["price"] = str(values.get("price", "0"))
        values["category"] = str(values.get("category") or "")
        values["best_seller"] = bool(values.get("best_seller"))
        values["seasonal"] = bool(values.get("seasonal"))
        return cls(**values)


#: the field names `from_dict` keeps (others in stored data are ignored)
_BUYER_FIELDS = frozenset(f.name for f in dataclasses.fields(Buyer))
_ITEM_FIELDS = frozenset(f.name for f in dataclasses.fields(Item))


@dataclass
class Order:
    """What the bot knows of an order, folded from the store's events."""

    order_id: str
    buyer: Buyer
    items: list[Item] = field(default_factory=list)
    total_amount: str = "0"
    currency: str = "USD"
    status: str = "unknown"
    placed_at: datetime | None = None
    paid_at: datetime | None = None
    closed_at: datetime | None = None
    #: the latest data of every event type seen (shipping, pickup, dispute...)
    facts: dict[str, Any] = field(default_factory=dict)
    #: event types that arrived before `order.placed` and still must be applied
    early: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Written out by hand (`dataclasses.asdict` deep-copies every value, a
        large share of a commit's CPU); nested JSON values are shared, not copied."""
        return {
            "order_id": self.order_id,
            "buyer": self.buyer.to_dict(),
            "items": [item.to_dict() for item in self.items],
            "total_amount": self.total_amount,
            "currency": self.currency,
            "status": self.status,
            "placed_at": iso(self.placed_at),
            "paid_at": iso(self.paid_at),
            "closed_at": iso(self.closed_at),
            "facts": dict(self.facts),
            "early": list(self.early),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Order:
        return cls(
            order_id=data["order_id"],
            buyer=Buyer.from_dict(data["buyer"]),
            items=[Item.from_dict(i) for i in data.get("items", [])],
            total_amount=str(data.get("total_amount", "0")),
            currency=data.get("currency", "USD"),
            status=data.get("status", "unknown"),
            placed_at=parse_time(data.get("placed_at")),
            paid_at=parse_time(data.get("paid_at")),
            closed_at=parse_time(data.get("closed_at")),
            facts=dict(data.get("facts", {})),
            early=list(data.get("early", [])),
        )


@dataclass
class Conversation:
    """One order's conversation with its buyer: which dialog, which step."""

    id: str
    order_id: str
    dialog: str | None = None
    state: str | None = None
    #: bumped on every state change; buttons carry it to detect stale presses
    step: int = 0
    ownership: Ownership = Ownership.BOT
    language: str = "en"
    channel: str | None = None
    address: str | None = None
    buyer_replied: bool = False
    misunderstandings: int = 0
    unreachable: bool = False
    #: dialog-specific memory (evidence received, reminders sent, ...)
    memory: dict[str, Any] = field(default_factory=dict)
    #: the buyer's last inbound message time per channel (WhatsApp's 24 h window)
    last_buyer_message_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """By hand, like `Order.to_dict`; nested JSON values are shared, not copied."""
        return {
            "id": self.id,
            "order_id": self.order_id,
            "dialog": self.dialog,
            "state": self.state,
            "step": self.step,
            "ownership": str(self.ownership),
            "language": self.language,
            "channel": self.channel,
            "address": self.address,
            "buyer_replied": self.buyer_replied,
            "misunderstandings": self.misunderstandings,
            "unreachable": self.unreachable,
            "memory": dict(self.memory),
            "last_buyer_message_at": iso(self.last_buyer_message_at),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Conversation:
        values = dict(data)
        values["ownership"] = Ownership(values.get("ownership", "bot"))
        values["last_buyer_message_at"] = parse_time(values.get("last_buyer_message_at"))
        return cls(**values)


@dataclass(frozen=True)
class Inbound:
    """Anything that happened to a conversation, as every door hands it over."""

    conversation_id: str
    trigger: str
    payload: dict[str, Any]
    #: idempotency key from the source (event_id, update_id, message id, timer)
    source_id: str
    received_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "trigger": self.trigger,
            "payload": self.payload,
            "source_id": self.source_id,
            "received_at": iso(self.received_at),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Inbound:
        received = parse_time(data["received_at"])
        assert received is not None
        return cls(
            conversation_id=data["conversation_id"],
            trigger=data["trigger"],
            payload=dict(data.get("payload", {})),
            source_id=data["source_id"],
            received_at=received,
        )


@dataclass(frozen=True)
class Button:
    """A quick reply: `action` is what comes back, the label is a template key."""

    action: str
    url: str | None = None
    #: an explicit label (alternative item titles); otherwise buttons.toml[action]
    label: str | None = None


@dataclass(frozen=True)
class Say:
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    buttons: tuple[Button, ...] = ()
    owned: bool = False  # decided while a person owned the chat (dialogs/held.py)


@dataclass(frozen=True)
class Schedule:
    """Arm (or re-arm) the named follow-up of this conversation."""

    name: str
    due_at: datetime
    urgent: bool = False  # a buyer message before a deadline: quiet hours move it EARLIER
    internal: bool = False  # not a buyer message (a hand-off, a task): runs at any hour


@dataclass(frozen=True)
class Cancel:
    name: str


@dataclass(frozen=True)
class HandOff:
    reason: str


@dataclass(frozen=True)
class SellerTask:
    kind: str
    details: dict[str, Any] = field(default_factory=dict)


Outbound = Say | Schedule | Cancel | HandOff | SellerTask


@dataclass
class Commit:
    """Everything one handled Inbound changes, written in one transaction."""

    conversation: Conversation
    order: Order | None
    inbound_source_id: str
    outbox: list[OutboxMessage] = field(default_factory=list)
    timers_set: list[Timer] = field(default_factory=list)
    #: timer names of this conversation to delete
    timers_cancelled: list[str] = field(default_factory=list)
    transcript: list[TranscriptEntry] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    #: also bind the conversation's channel and address to it (as `Store.bind`),
    #: in the same transaction (set by `DialogEngine.handle`)
    bind: bool = False
    #: a fresh link token for the order, stored only if the order has none yet
    link_token: str | None = None
