"""WhatsApp Cloud API webhook bodies: signature check, phone normalisation and
parsing into small records (messages and delivery statuses)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from pywa.types.message_status import MessageStatusType
from pywa.types.others import MessageType
from pywa.utils import HUB_SIG

from dialogs.orders import normalise_phone

SIGNATURE_HEADER = HUB_SIG
#: our media kinds, as the dialogs name them
MEDIA_KINDS = {MessageType.IMAGE: "photo", MessageType.VIDEO: "video", MessageType.DOCUMENT: "document",
               MessageType.AUDIO: "audio"}  # fmt: skip
STATUSES = frozenset({MessageStatusType.SENT, MessageStatusType.DELIVERED, MessageStatusType.READ,
                      MessageStatusType.FAILED})  # fmt: skip


class MalformedWebhook(ValueError):
    """A body that is JSON but not a WhatsApp Business Account notification."""


def signature_ok(app_secret: str | None, body: bytes, header: str | None) -> bool:
    """X-Hub-Signature-256 = sha256=HMAC-SHA256(app secret, raw body), compared in constant time."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    # bytes: compare_digest refuses str with non-ASCII characters (a header is any latin-1 text)
    given = header.removeprefix("sha256=").encode("utf-8", "replace")
    return hmac.compare_digest(expected.encode(), given)


def sign(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class WaMessage:
    id: str
    sender: str
    type: str
    text: str = ""
    #: the id of a pressed reply button / list row, or a template button's payload
    reply_id: str | None = None
    media: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class WaStatus:
    id: str
    status: str
    recipient: str
    timestamp: str = ""
    errors: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def error_code(self) -> int | None:
        code = self.errors[0].get("code") if self.errors else None
        return int(code) if isinstance(code, int | str) and str(code).isdigit() else None


def parse_webhook(data: Any, phone_id: str | None = None) -> tuple[list[WaMessage], list[WaStatus]]:
    """Messages and statuses of every change addressed to `phone_id`."""
    if not isinstance(data, dict) or not isinstance(data.get("entry", []), list):
        raise MalformedWebhook("not a WhatsApp notification")
    messages: list[WaMessage] = []
    statuses: list[WaStatus] = []
    for entry in data.get("entry", []):
        for change in _list(_dict(entry).get("changes")):
            value = _dict(_dict(change).get("value"))
            target = str(_dict(value.get("metadata")).get("phone_number_id", ""))
            if phone_id and target and target != phone_id:
                continue
            messages += [m for m in map(_message, _list(value.get("messages"))) if m is not None]
            statuses += [s for s in map(_status, _list(value.get("statuses"))) if s is not None]
    return messages, statuses


def _dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedWebhook("expected an object")
    return value


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedWebhook("expected a list")
    return value


def _message(raw: Any) -> WaMessage | None:
    raw = _dict(raw)
    sender = normalise_phone(raw.get("from"))
    kind = str(raw.get("type", ""))
    if sender is None or not raw.get("id"):
        return None
    wid = str(raw["id"])
    if kind == MessageType.TEXT:
        return WaMessage(wid, sender, kind, text=str(_dict(raw.get("text")).get("body", "")))
    if kind == MessageType.INTERACTIVE:
        interactive = _dict(raw.get("interactive"))
        reply = _dict(interactive.get(str(interactive.get("type")), {}))
        return WaMessage(wid, sender, kind, text=str(reply.get("title", "")), reply_id=reply.get("id"))
    if kind == MessageType.BUTTON:  # a quick-reply button of a template message
        button = _dict(raw.get("button"))
        return WaMessage(wid, sender, kind, text=str(button.get("text", "")), reply_id=button.get("payload"))
    if kind in MEDIA_KINDS:
        media = _dict(raw.get(kind))
        item = {"kind": MEDIA_KINDS[MessageType(kind)], "file_id": str(media.get("id", "")),
                "mime_type": media.get("mime_type")}  # fmt: skip
        if media.get("filename"):
            item["file_name"] = media["filename"]
        return WaMessage(wid, sender, kind, text=str(media.get("caption", "")), media=(item,))
    return None  # reactions, stickers, locations, system notices: nothing to answer


def _status(raw: Any) -> WaStatus | None:
    raw = _dict(raw)
    if not raw.get("id") or raw.get("status") not in STATUSES:
        return None
    errors = tuple(e for e in _list(raw.get("errors")) if isinstance(e, dict))
    return WaStatus(str(raw["id"]), str(raw["status"]), str(raw.get("recipient_id", "")),
                    str(raw.get("timestamp", "")), errors)  # fmt: skip
