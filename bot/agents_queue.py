"""The agents' queue, shared by the Telegram agents' desk and the web console:
which conversations wait for or belong to a person, since when, the response
deadline counted in working hours only, whether the agent must apologise
first, and the facts of the card an agent reads before answering."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from babel import Locale

from bot.undelivered import held_back, undelivered
from dialogs.calendar import WorkingHours, add_business_days, buyer_timezone, local_time_text
from dialogs.locale_text import money
from dialogs.model import Conversation, Order, Ownership, TranscriptEntry, parse_time
from dialogs.policy import Policy
from dialogs.ports import Store

#: the agents' card and the console are written in English: amounts as Babel writes them there
STAFF: Final = Locale.parse("en")

TOPIC_NAME_LIMIT = 128
#: a cancelled order's money is back within this many business days
REFUND_BUSINESS_DAYS = 7
LAST_MESSAGES = 8
SHOWN_AUTHORS = ("buyer", "bot", "agent", "note")


@dataclass(frozen=True)
class HandoffRules:
    """The `[handoff]` section of the policy, with defaults."""

    response_within: timedelta
    check_every: timedelta
    min_offer: Decimal
    max_offer: Decimal
    hours: WorkingHours

    @classmethod
    def from_policy(cls, policy: Policy) -> HandoffRules:
        section: dict[str, Any] = policy.raw.get("handoff", {})
        try:
            max_offer = Decimal(str(section.get("max_offer_percent", "10")))
        except InvalidOperation:
            max_offer = Decimal(10)
        return cls(
            response_within=policy.timing("handoff.response_within", "2h"),
            check_every=policy.timing("handoff.check_every", "1m"),
            min_offer=policy.unpaid.discount_percent,
            max_offer=max_offer,
            hours=working_hours(policy),
        )


def offer_percent(rules: HandoffRules, given: Decimal | None) -> int | float | None:
    """An agent's discount as sent to the dialog, or None outside the policy's range."""
    if given is None or not rules.min_offer <= given <= rules.max_offer:
        return None
    return int(given) if given == given.to_integral_value() else float(given)


def refund_day(order: Order, now: datetime) -> date:
    """When a refund started now reaches the buyer: business days of the buyer's country."""
    country = order.buyer.country
    return add_business_days(now, REFUND_BUSINESS_DAYS, country, buyer_timezone(country, order.buyer.timezone))


def working_hours(policy: Policy) -> WorkingHours:
    return WorkingHours(
        tz=policy.store_timezone,
        days=policy.working_days,
        opens=policy.opens,
        closes=policy.closes,
        holiday_country=policy.holiday_country or None,
    )


def add_working_time(start: datetime, duration: timedelta, hours: WorkingHours) -> datetime:
    """`start` plus `duration` counted only while the store is open; a start
    outside working hours counts from the next opening."""
    at, left = start, duration
    while True:
        at = hours.next_opening(at)
        span = hours.window(at.astimezone(hours.tz).date())
        assert span is not None, "next_opening returns an open moment"
        if at + left <= span[1]:
            return at + left
        left -= span[1] - at
        at = span[1]


def must_apologise(handed_off_at: datetime, now: datetime, hours: WorkingHours) -> bool:
    """The buyer waited past the end of the working day they asked in, or,
    handed off while the store was closed, across the whole off-period."""
    if now <= handed_off_at:
        return False
    try:
        if hours.is_open(handed_off_at):
            span = hours.window(handed_off_at.astimezone(hours.tz).date())
            return span is not None and now >= span[1]
        return now >= hours.next_opening(handed_off_at)
    except ValueError:  # no opening for weeks: certainly late
        return True


@dataclass
class QueueItem:
    conversation: Conversation
    order: Order
    handed_off_at: datetime
    deadline: datetime
    now: datetime
    apologise: bool
    messages: list[TranscriptEntry] = field(default_factory=list)
    #: held or failed messages of this conversation (bot/undelivered.py)
    undelivered: list[dict[str, Any]] = field(default_factory=list)

    @property
    def waiting(self) -> timedelta:
        return self.now - self.handed_off_at

    @property
    def overdue(self) -> bool:
        return self.conversation.ownership is Ownership.WAITING and self.now > self.deadline

    @property
    def reason(self) -> str:
        return str(self.conversation.memory.get("handoff_reason", "unknown"))

    @property
    def agent(self) -> str | None:
        agent = self.conversation.memory.get("agent")
        return str(agent) if agent else None


def handed_off_at(conversation: Conversation, fallback: datetime) -> datetime:
    return parse_time(conversation.memory.get("handed_off_at")) or fallback


async def queue_item(store: Store, rules: HandoffRules, conversation_id: str, now: datetime) -> QueueItem | None:
    """The queue entry of one conversation, None when the bot owns it."""
    conversation, order = await store.load(conversation_id)
    if conversation is None or order is None or conversation.ownership is Ownership.BOT:
        return None
    since = handed_off_at(conversation, now)
    rows = await store.transcript(conversation.id)
    shown = [entry for _, entry in rows if entry.author in SHOWN_AUTHORS][-LAST_MESSAGES:]
    return QueueItem(
        conversation=conversation,
        order=order,
        handed_off_at=since,
        deadline=add_working_time(since, rules.response_within, rules.hours),
        now=now,
        apologise=must_apologise(since, now, rules.hours),
        messages=shown,
        undelivered=undelivered(await store.outbox_for(conversation.id)),
    )


async def build_queue(store: Store, rules: HandoffRules, now: datetime) -> list[QueueItem]:
    """Conversations waiting for or owned by an agent, longest waiting first."""
    items = []
    for conversation in await store.conversations():
        if conversation.ownership is Ownership.BOT:
            continue
        item = await queue_item(store, rules, conversation.id, now)
        if item is not None:
            items.append(item)
    items.sort(key=lambda i: (i.handed_off_at, i.conversation.id))
    return items


def topic_name(order: Order, reason: str) -> str:
    """The topic name: buyer name · order id · reason, at most 128 characters."""
    buyer = (order.buyer.name or order.buyer.id or "buyer").strip()
    tail = f" · {order.order_id} · {reason}"
    room = TOPIC_NAME_LIMIT - len(tail)
    if room < 8:
        return f"{buyer[:40]} · {order.order_id}"[:TOPIC_NAME_LIMIT]
    return (buyer[:room] + tail)[:TOPIC_NAME_LIMIT]


def evidence_of(item: QueueItem) -> dict[str, list[str]]:
    return evidence_for(item.conversation, item.order)


def evidence_for(conversation: Conversation, order: Order) -> dict[str, list[str]]:
    """Photos and videos by file id, links by URL (a video link is a link)."""
    raw: dict[str, Any] = conversation.memory.get("evidence") or order.facts.get("evidence") or {}
    files_photo = [str(p) for p in raw.get("photos", []) if p]
    videos = [str(v) for v in raw.get("videos", []) if v]
    links = [str(link) for link in raw.get("links", []) if link]
    links += [v for v in videos if v.startswith(("http://", "https://"))]
    files_video = [v for v in videos if not v.startswith(("http://", "https://"))]
    return {"photos": files_photo, "videos": files_video, "links": links}


def deadlines_of(order: Order) -> dict[str, str]:
    found: dict[str, str] = {}
    respond_by = order.facts.get("dispute.opened", {}).get("respond_by")
    pickup = order.facts.get("order.awaiting_pickup", {}).get("pickup_deadline")
    if respond_by:
        found["dispute respond by"] = str(respond_by)
    if pickup:
        found["pickup deadline"] = str(pickup)
    return found


def card_context(item: QueueItem, hours: WorkingHours) -> dict[str, Any]:
    """Everything the card template and the console show about one entry."""
    order, conversation = item.order, item.conversation
    tz = hours.tz
    return {
        "order_id": order.order_id,
        "buyer": {"name": order.buyer.name, "country": order.buyer.country, "language": conversation.language},
        "channel": conversation.channel or "none",
        "items": [
            {
                "qty": i.qty,
                "title": i.title,
                "price": i.price,
                "price_text": money(i.price, order.currency, STAFF),
                "url": i.url,
            }
            for i in order.items
        ],
        "total": money(order.total_amount, order.currency, STAFF),
        "status": order.status,
        "reason": item.reason,
        "ownership": str(conversation.ownership),
        "agent": item.agent,
        "handed_off": local_time_text(item.handed_off_at, tz, "en"),
        "handed_off_at": item.handed_off_at.isoformat(),
        "deadline": local_time_text(item.deadline, tz, "en"),
        "deadline_at": item.deadline.isoformat(),
        "waiting_minutes": int(item.waiting.total_seconds() // 60),
        "overdue": item.overdue,
        "apologise": item.apologise,
        "messages": [
            {"at": local_time_text(m.at, tz, "en"), "author": m.author, "text": m.text} for m in item.messages
        ],
        "evidence": evidence_of(item),
        "held_back": held_back(conversation),
        "undelivered": item.undelivered,
        "deadlines": deadlines_of(order),
        "store_tz": str(tz),
    }
