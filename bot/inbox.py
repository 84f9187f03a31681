"""The web inbox: every conversation with filters (waiting for a person, with
me, with another agent, with the bot, all), search, unread counts and the
response deadline; and the whole picture of one conversation. Reads only;
the queue rules are `bot.agents_queue`'s, shared with the Telegram desk."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.agents_queue import HandoffRules, add_working_time, deadlines_of, evidence_for, handed_off_at
from bot.media import agent_url
from dialogs.model import Conversation, Order, OutboxStatus, Ownership, TranscriptEntry
from dialogs.ports import Store

VIEWS = ("waiting", "mine", "others", "bot", "all")
#: what the buyer's transcript line holds for a button press: `[accept_offer]`
PRESSED = re.compile(r"^\[([a-z_]+)\]$")
IMAGE = re.compile(r"\.(?:png|jpe?g|gif|webp)(?:\?.*)?$", re.IGNORECASE)


@dataclass
class InboxEntry:
    conversation: Conversation
    order: Order
    last_at: datetime | None
    last_text: str
    unread: int
    waiting_since: datetime | None = None
    deadline: datetime | None = None
    overdue: bool = False

    @property
    def agent(self) -> str:
        return str(self.conversation.memory.get("agent") or "")

    def to_dict(self) -> dict[str, Any]:
        order, conversation = self.order, self.conversation
        return {
            "conversation_id": conversation.id,
            "order_id": order.order_id,
            "buyer": order.buyer.name,
            "channel": conversation.channel or "none",
            "language": conversation.language,
            "ownership": str(conversation.ownership),
            "agent": self.agent or None,
            "status": order.status,
            "last_at": self.last_at.isoformat() if self.last_at else None,
            "last_text": self.last_text,
            "unread": self.unread,
            "waiting_since": self.waiting_since.isoformat() if self.waiting_since else None,
            "deadline_at": self.deadline.isoformat() if self.deadline else None,
            "overdue": self.overdue,
        }


def in_view(conversation: Conversation, view: str, me: str) -> bool:
    ownership, agent = conversation.ownership, str(conversation.memory.get("agent") or "")
    if view == "waiting":
        return ownership is Ownership.WAITING
    if view == "mine":
        return ownership is Ownership.AGENT and agent == me
    if view == "others":
        return ownership is Ownership.AGENT and agent != me
    if view == "bot":
        return ownership is Ownership.BOT
    return True


def matches(query: str, order: Order, conversation: Conversation, rows: list[tuple[int, TranscriptEntry]]) -> bool:
    """Order number, buyer name, phone or chat address, or any transcript text."""
    needle = query.strip().lower()
    if not needle:
        return True
    buyer = order.buyer
    digits = re.sub(r"\D", "", needle)
    phones = [str(buyer.whatsapp_phone or ""), str(buyer.telegram_chat_id or ""), str(conversation.address or "")]
    if digits and len(digits) >= 4 and any(digits in re.sub(r"\D", "", p) for p in phones):
        return True
    fields = [order.order_id, buyer.name, buyer.id, *(entry.text for _, entry in rows)]
    return any(needle in str(value).lower() for value in fields)


async def inbox(
    store: Store, rules: HandoffRules, now: datetime, me: str, seen: dict[str, int], view: str = "all", query: str = ""
) -> list[InboxEntry]:
    """Waiting conversations first, oldest wait first; then the latest active."""
    entries = []
    for conversation in await store.conversations():
        if not in_view(conversation, view, me):
            continue
        _, order = await store.load(conversation.id)
        if order is None:
            continue
        rows = await store.transcript(conversation.id)
        if not matches(query, order, conversation, rows):
            continue
        entries.append(_entry(conversation, order, rows, seen.get(conversation.id, 0), rules, now))
    waiting = sorted((e for e in entries if e.waiting_since), key=lambda e: (e.waiting_since, e.conversation.id))
    rest = sorted((e for e in entries if not e.waiting_since), key=lambda e: e.last_at or now, reverse=True)
    return waiting + rest


def _entry(
    conversation: Conversation,
    order: Order,
    rows: list[tuple[int, TranscriptEntry]],
    seen: int,
    rules: HandoffRules,
    now: datetime,
) -> InboxEntry:
    shown = [(seq, e) for seq, e in rows if e.author != "event"]
    last = shown[-1][1] if shown else None
    unread = sum(1 for seq, e in rows if seq > seen and e.author == "buyer")
    entry = InboxEntry(conversation, order, last.at if last else None, last.text[:140] if last else "", unread)
    if conversation.ownership is Ownership.WAITING:
        entry.waiting_since = handed_off_at(conversation, now)
        entry.deadline = add_working_time(entry.waiting_since, rules.response_within, rules.hours)
        entry.overdue = now > entry.deadline
    return entry


@dataclass
class ConversationView:
    conversation: Conversation
    order: Order
    lines: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    history: list[tuple[str, str]] = field(default_factory=list)
    timers: list[dict[str, Any]] = field(default_factory=list)
    evidence: dict[str, list[str]] = field(default_factory=dict)
    deadlines: dict[str, str] = field(default_factory=dict)
    last_seq: int = 0


async def conversation_view(
    store: Store, rules: HandoffRules, conversation_id: str, now: datetime, label: Any
) -> ConversationView | None:
    """`label(action, language)` names a pressed button as the buyer saw it."""
    conversation, order = await store.load(conversation_id)
    if conversation is None or order is None:
        return None
    view = ConversationView(conversation, order)
    rows = await store.transcript(conversation_id)
    view.last_seq = rows[-1][0] if rows else 0
    for seq, entry in rows:
        # older entries name a press "[action]"; newer ones carry its label (and "[photo]" is a file)
        old_press = entry.author == "buyer" and not entry.pressed and not entry.media
        pressed = PRESSED.match(entry.text) if old_press else None
        text = _label_or(label, pressed[1], conversation.language, entry.text) if pressed else entry.text
        links = re.findall(r"https?://\S+", entry.text)
        uploads = [(m.get("kind"), agent_url(str(m.get("file_id", "")))) for m in entry.media]
        view.lines.append({
            "seq": seq, "at": entry.at, "author": entry.author, "text": text,
            "pressed": bool(pressed) or bool(entry.pressed), "name": entry.name,
            "buttons": [b.get("label", "") for b in entry.buttons],
            "images": [u for u in links if IMAGE.search(u)] + [u for kind, u in uploads if u and kind == "photo"],
            "videos": [u for kind, u in uploads if u and kind == "video"],
        })  # fmt: skip
    for message in await store.outbox_for(conversation_id):
        if message.status in (OutboxStatus.HELD, OutboxStatus.FAILED, OutboxStatus.PENDING):
            view.problems.append({"template": message.template, "status": str(message.status),
                                  "error": message.error or "", "at": message.created_at})  # fmt: skip
    view.history = _history(order)
    for timer in await store.timers_for(conversation_id):
        view.timers.append({"name": timer.name, "due_at": timer.due_at, "paused": False})
    for name, seconds in (conversation.memory.get("paused_timers") or {}).items():
        view.timers.append({"name": name, "left_minutes": int(float(seconds) // 60), "paused": True})
    view.evidence = {
        kind: [agent_url(f) or f for f in found] for kind, found in evidence_for(conversation, order).items()
    }
    view.deadlines = deadlines_of(order)
    if conversation.ownership is Ownership.WAITING:
        since = handed_off_at(conversation, now)
        view.deadlines["answer by"] = add_working_time(since, rules.response_within, rules.hours).isoformat()
    return view


def _label_or(label: Any, action: str, language: str, fallback: str) -> str:
    try:
        return str(label(action, language))
    except LookupError:  # "[photo]" of a Telegram buyer, an action no longer labelled
        return fallback


def _history(order: Order) -> list[tuple[str, str]]:
    """(when, event type) from the order's facts, oldest first."""
    found = [(order.placed_at.isoformat(), "order.placed")] if order.placed_at else []
    for kind, data in order.facts.items():
        if isinstance(data, dict) and data.get("occurred_at"):
            found.append((str(data["occurred_at"]), kind))
    return sorted(found)
