"""The records the store keeps beside a conversation: outbox messages, pending
follow-ups (timers) and transcript lines, with their dict forms and the time
helpers those use. Re-exported by `dialogs.model`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


def parse_time(value: str | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    HELD = "held"
    FAILED = "failed"


@dataclass
class OutboxMessage:
    id: str
    conversation_id: str
    template: str
    context: dict[str, Any]
    buttons: list[dict[str, Any]]
    language: str
    step: int
    created_at: datetime
    channel: str | None = None
    address: str | None = None
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    channel_message_id: str | None = None
    error: str | None = None
    #: earliest time the sender may try again (backoff, 429)
    not_before: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """By hand, like `Order.to_dict`; nested JSON values are shared, not copied."""
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "template": self.template,
            "context": dict(self.context),
            "buttons": [dict(button) for button in self.buttons],
            "language": self.language,
            "step": self.step,
            "created_at": iso(self.created_at),
            "channel": self.channel,
            "address": self.address,
            "status": str(self.status),
            "attempts": self.attempts,
            "channel_message_id": self.channel_message_id,
            "error": self.error,
            "not_before": iso(self.not_before),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutboxMessage:
        values = dict(data)
        values["status"] = OutboxStatus(values.get("status", "pending"))
        values["created_at"] = parse_time(values["created_at"])
        values["not_before"] = parse_time(values.get("not_before"))
        return cls(**values)


@dataclass(frozen=True)
class Timer:
    """A pending follow-up. The store is the source of truth for which exist."""

    conversation_id: str
    name: str
    due_at: datetime

    @property
    def id(self) -> str:
        return f"{self.conversation_id}:{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {"conversation_id": self.conversation_id, "name": self.name, "due_at": iso(self.due_at)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Timer:
        due = parse_time(data["due_at"])
        assert due is not None
        return cls(conversation_id=data["conversation_id"], name=data["name"], due_at=due)


@dataclass(frozen=True)
class TranscriptEntry:
    conversation_id: str
    at: datetime
    #: "buyer", "bot", "agent", "event" or "note"
    author: str
    text: str
    buttons: tuple[dict[str, Any], ...] = ()
    #: files the buyer sent with it: {kind, file_id, mime_type}
    media: tuple[dict[str, Any], ...] = ()
    #: who spoke, when a person did (the agent's name)
    name: str = ""
    #: a button press: "<action>:<dialog>" of the pressed button
    pressed: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "at": iso(self.at),
            "author": self.author,
            "text": self.text,
            "buttons": list(self.buttons),
            "media": list(self.media),
            "name": self.name,
            "pressed": self.pressed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TranscriptEntry:
        at = parse_time(data["at"])
        assert at is not None
        return cls(
            conversation_id=data["conversation_id"],
            at=at,
            author=data["author"],
            text=data["text"],
            buttons=tuple(data.get("buttons", ())),
            media=tuple(data.get("media", ())),
            name=str(data.get("name", "")),
            pressed=str(data.get("pressed", "")),
        )
