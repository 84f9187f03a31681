"""Compact JSON encoding of the domain records shared by the storage backends:
fields equal to their dataclass default are dropped, `from_dict` restores them."""

from __future__ import annotations

import dataclasses
import functools
import json
from datetime import UTC, datetime
from typing import Any

from dialogs.model import (
    Buyer,
    Conversation,
    Inbound,
    Item,
    Order,
    OutboxMessage,
    OutboxStatus,
    TranscriptEntry,
    iso,
    parse_time,
)


def dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)


def loads(text: str) -> Any:
    return json.loads(text)


@functools.cache
def _defaults(cls: type) -> dict[str, Any]:
    """The fields' defaults (computed once per class; never mutate the result)."""
    found: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            found[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            found[f.name] = f.default_factory()
    return found


def _strip(data: dict[str, Any], cls: type) -> dict[str, Any]:
    defaults = _defaults(cls)
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in defaults:
            default = defaults[key]
            if value == default and isinstance(value, bool) == isinstance(default, bool):
                continue
        out[key] = value
    return out


def encode_conversation(conversation: Conversation) -> str:
    return dumps(_strip(conversation.to_dict(), Conversation))


def decode_conversation(text: str) -> Conversation:
    return Conversation.from_dict(json.loads(text))


def encode_order(order: Order) -> str:
    data = _strip(order.to_dict(), Order)
    data["buyer"] = _strip(data["buyer"], Buyer)
    if "items" in data:
        data["items"] = [_strip(item, Item) for item in data["items"]]
    return dumps(data)


def decode_order(text: str) -> Order:
    return Order.from_dict(json.loads(text))


def encode_outbox(message: OutboxMessage) -> str:
    return dumps(_strip(message.to_dict(), OutboxMessage))


def decode_outbox(text: str) -> OutboxMessage:
    return OutboxMessage.from_dict(json.loads(text))


#: the fields `update_outbox` may change on an existing message
OUTBOX_MUTABLE = ("status", "attempts", "channel_message_id", "error", "not_before", "channel", "address")


def _delivery(message: OutboxMessage) -> dict[str, Any]:
    """The delivery fields (OUTBOX_MUTABLE) as `OutboxMessage.to_dict` gives them."""
    fields = {name: getattr(message, name) for name in OUTBOX_MUTABLE}
    fields["status"], fields["not_before"] = str(message.status), iso(message.not_before)
    return fields


def delivery_patch(message: OutboxMessage) -> str:
    """A JSON merge patch that sets the delivery fields in a stored
    `encode_outbox` JSON: a field at its default is removed (null), as
    `encode_outbox` leaves it out."""
    fields = _delivery(message)
    kept = _strip(fields, OutboxMessage)
    return dumps({name: kept.get(name) for name in fields})


def encode_delivery(message: OutboxMessage) -> str:
    """The delivery fields on their own: "status|attempts|json of the rest"
    (a Redis script reads and bumps the first two without parsing JSON)."""
    rest = _delivery(message)
    status, attempts = rest.pop("status"), rest.pop("attempts")
    return f"{status}|{attempts}|{dumps({k: v for k, v in rest.items() if v is not None})}"


def apply_delivery(message: OutboxMessage, state: str) -> OutboxMessage:
    """`message` (as added) with the delivery fields of `state` (`encode_delivery`)."""
    status, attempts, rest = state.split("|", 2)
    data = json.loads(rest)
    for name in OUTBOX_MUTABLE:
        setattr(message, name, data.get(name))
    message.status, message.attempts = OutboxStatus(status), int(attempts)
    message.not_before = parse_time(message.not_before)
    return message


def encode_inbound(inbound: Inbound) -> str:
    return dumps(inbound.to_dict())


def decode_inbound(text: str) -> Inbound:
    return Inbound.from_dict(json.loads(text))


def encode_entry(entry: TranscriptEntry) -> str:
    """Without conversation_id: the storage key already names it."""
    data = entry.to_dict()
    del data["conversation_id"]
    for optional in ("buttons", "media", "name", "pressed"):
        if not data[optional]:
            del data[optional]
    return dumps(data)


def decode_entry(conversation_id: str, text: str) -> TranscriptEntry:
    data = json.loads(text)
    data["conversation_id"] = conversation_id
    return TranscriptEntry.from_dict(data)


def to_micros(moment: datetime) -> int:
    """Exact integer microseconds since the epoch (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    seconds, rest = divmod(int(micros), 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest)
