"""What the web chat page is shown of an order: its messages (who spoke,
button presses by label, files as links back to the bot) and the order's
state (header, which buttons may still be pressed, who owns the chat)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bot.media import media_id_of
from dialogs.model import Conversation, Order, Ownership, TranscriptEntry
from dialogs.ports import Store

SHOWN_AUTHORS = ("buyer", "bot", "agent")
#: agent names that say nothing about the person (the console's default)
ANONYMOUS = {"", "agent", "console"}

Entries = list[tuple[int, TranscriptEntry]]


def message_view(seq: int, entry: TranscriptEntry, session: str) -> dict[str, Any]:
    media = []
    for item in entry.media:
        media_id = media_id_of(str(item.get("file_id", "")))
        if media_id:
            url = f"/chat/media/{media_id}?session={quote(session)}"
            media.append({"kind": item.get("kind"), "mime_type": item.get("mime_type"), "url": url})
    text = entry.text
    if entry.author == "buyer" and media and text.startswith("[") and text.endswith("]"):
        text = ""  # "[photo]" is how agents read it; the page shows the photo itself
    return {
        "seq": seq,
        "order_id": entry.conversation_id,
        "at": entry.at.isoformat(),
        "author": entry.author,
        "name": entry.name if entry.author == "agent" and entry.name.lower() not in ANONYMOUS else "",
        "text": text,
        "buttons": [{"data": b.get("data"), "label": b.get("label"), "url": b.get("url")} for b in entry.buttons],
        "media": media,
        "pressed": entry.pressed,
    }


def live_buttons(entries: Entries, conversation: Conversation | None) -> int:
    """The seq of the one message whose buttons may still be pressed, or 0:
    the newest message with reply buttons, while the bot owns the chat, its
    step is the conversation's step and the buyer has not pressed one yet."""
    if conversation is None or conversation.ownership is not Ownership.BOT:
        return 0
    for seq, entry in reversed(entries):
        if entry.author == "buyer" and entry.pressed:
            return 0
        replies = [b for b in entry.buttons if not b.get("url")]
        if entry.author in ("bot", "agent") and replies:
            step = replies[0].get("step")
            return seq if step is None or step == conversation.step else 0
    return 0


def order_view(order: Order | None, conversation: Conversation | None, store_name: str) -> dict[str, Any]:
    if order is None:
        return {"store": store_name}
    first = order.items[0].title if order.items else ""
    return {
        "store": store_name,
        "order_id": order.order_id,
        "item": first,
        "more_items": max(len(order.items) - 1, 0),
        "total": order.total_amount,
        "currency": order.currency,
        "status": order.status,
        "language": conversation.language if conversation else "en",
    }


async def state_view(store: Store, order_id: str, entries: Entries, store_name: str) -> dict[str, Any]:
    conversation, order = await store.load(order_id)
    return {
        **order_view(order, conversation, store_name),
        "live": live_buttons(entries, conversation),
        "with_person": conversation is not None and conversation.ownership is not Ownership.BOT,
    }


def shown(entries: Entries) -> Entries:
    return [(seq, entry) for seq, entry in entries if entry.author in SHOWN_AUTHORS]


def label_of(entries: Entries, data: str) -> str:
    """The label the buyer saw on the button `data`, newest message first."""
    for _, entry in reversed(entries):
        for button in entry.buttons:
            if button.get("data") == data:
                return str(button.get("label") or "")
    return ""
