"""The agents' queue rules: response deadlines counted in working hours, the
apologise-first rule, queue order, the card, topic bookkeeping in the Store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.agents_queue import (
    HandoffRules,
    add_working_time,
    build_queue,
    card_context,
    must_apologise,
    topic_name,
    working_hours,
)
from bot.channels.agents_commands import parse_command, parse_percent
from bot.channels.agents_topics import TopicMap
from bot.config import ROOT
from bot.rendering import Renderer
from dialogs.model import (
    Buyer,
    Commit,
    Conversation,
    Item,
    Order,
    OutboxMessage,
    OutboxStatus,
    Ownership,
    TranscriptEntry,
)
from dialogs.policy import policy_from_dict
from dialogs.ports import Store

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = policy_from_dict({"handoff": {"response_within": "2h", "max_offer_percent": 8}})
HOURS = working_hours(POLICY)  # Mon-Sat 09:00-18:00 Asia/Shanghai, CN holidays


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """March 2026 in the store's zone (9 March is a Monday, no CN holiday that week)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def test_deadline_counts_working_hours_only() -> None:
    two = timedelta(hours=2)
    assert add_working_time(local(9, 10), two, HOURS) == local(9, 12)
    assert add_working_time(local(9, 17), two, HOURS) == local(10, 10)  # 1 h today, 1 h tomorrow
    assert add_working_time(local(9, 22), two, HOURS) == local(10, 11)  # the clock starts at the opening
    assert add_working_time(local(14, 17, 30), two, HOURS) == local(16, 10, 30)  # Saturday -> Monday


def test_apologise_when_the_buyer_waited_past_the_working_day() -> None:
    assert not must_apologise(local(9, 10), local(9, 17, 59), HOURS)
    assert must_apologise(local(9, 17), local(9, 18, 5), HOURS)  # the day ended
    assert must_apologise(local(9, 17), local(10, 9, 30), HOURS)
    assert not must_apologise(local(9, 22), local(9, 23), HOURS)  # still the same night
    assert must_apologise(local(9, 22), local(10, 9, 1), HOURS)  # waited the whole night


def test_rules_from_policy() -> None:
    rules = HandoffRules.from_policy(POLICY)
    assert rules.response_within == timedelta(hours=2)
    assert rules.check_every == timedelta(minutes=1)
    assert (rules.min_offer, rules.max_offer) == (3, 8)


def test_topic_name_is_short_enough() -> None:
    order = Order("A-1", Buyer("b", name="N" * 300))
    name = topic_name(order, "escalation_words")
    assert len(name) <= 128 and name.endswith(" · A-1 · escalation_words")
    assert topic_name(Order("A-2", Buyer("b", name="Ann")), "asked") == "Ann · A-2 · asked"


def test_commands_and_percent() -> None:
    assert parse_command("/claim@buyerbot_test_bot") == ("claim", "")
    assert parse_command("/note call her tomorrow") == ("note", "call her tomorrow")
    assert parse_command("hello") is None
    assert parse_percent("5%") == 5 and parse_percent(" 7.5 % ") == 7.5 and parse_percent("lots") is None


async def _conversation(store: Store, order_id: str, ownership: Ownership, since: datetime | None) -> None:
    order = Order(order_id, Buyer(f"b-{order_id}", name="Ann", country="ES"), [Item("S", "Solar lamp")],
                  "20.0", placed_at=since, status="paid")  # fmt: skip
    memory = {"handed_off_at": since.isoformat(), "handoff_reason": "asked"} if since else {}
    conversation = Conversation(order_id, order_id, ownership=ownership, memory=memory)
    entries = [TranscriptEntry(order_id, since or local(9, 9), "buyer", f"hello from {order_id}")]
    await store.commit(Commit(conversation, order, f"seed:{order_id}", transcript=entries))


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
async def test_queue_longest_waiting_first_with_deadlines(store: Store) -> None:
    await _conversation(store, "LATE", Ownership.WAITING, local(9, 17))
    await _conversation(store, "EARLY", Ownership.AGENT, local(9, 10))
    await _conversation(store, "BOT", Ownership.BOT, None)
    rules = HandoffRules.from_policy(POLICY)
    queue = await build_queue(store, rules, local(10, 9, 30))
    assert [i.conversation.id for i in queue] == ["EARLY", "LATE"]
    late = queue[1]
    assert late.deadline == local(10, 10) and not late.overdue and late.apologise
    assert not queue[0].overdue  # an agent owns it: no SLA breach
    context = card_context(late, rules.hours)
    text = Renderer(ROOT / "templates").text("agents/card", "en", context)
    assert "Apologise first" in text and "hello from LATE" in text and "Solar lamp" in text
    assert "Tuesday 10 March, 10:00" in text


@pytest.mark.parametrize("store", ["sqlite", "redis"], indirect=True)
async def test_topic_map_is_durable_and_follows_recreation(store: Store) -> None:
    topics = TopicMap(store, -1001)
    assert await topics.topic_of("A-1") is None
    await topics.put("A-1", 7)
    assert await topics.topic_of("A-1") == 7 and await topics.conversation_for(7) == "A-1"
    await topics.put("A-1", 12)  # the old topic was deleted
    assert await topics.topic_of("A-1") == 12 and await topics.conversation_for(12) == "A-1"
    assert await TopicMap(store, -1002).topic_of("A-1") is None  # another group
    assert not await topics.done("reminder", "A-1", "t1")
    await topics.mark_done("reminder", "A-1", "t1")
    assert await topics.done("reminder", "A-1", "t1") and not await topics.done("reminder", "A-1", "t2")


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
async def test_the_card_shows_what_was_held_back_and_what_was_not_delivered(store: Store) -> None:
    since = local(9, 10)
    order = Order("HELD", Buyer("b-held", name="Ann", country="ES"), [Item("S", "Solar lamp")], "20.0",
                  placed_at=since, status="shipped")  # fmt: skip
    held = {"template": "shipping/shipped", "context": {"carrier": "Cainiao", "tracking_number": "LP1"},
            "why": "person", "at": since.isoformat(), "buttons": [], "dialog": "shipping", "step": 2}  # fmt: skip
    memory = {"handed_off_at": since.isoformat(), "handoff_reason": "asked", "held": [held]}
    conversation = Conversation("HELD", "HELD", ownership=Ownership.AGENT, memory=memory)
    not_sent = OutboxMessage("m-1", "HELD", "unpaid/nudge", {}, [], "en", 1, since, "whatsapp", "+34600",
                             status=OutboxStatus.HELD, error="outside the 24-hour window")  # fmt: skip
    await store.commit(Commit(conversation, order, "seed:HELD", outbox=[not_sent]))
    rules = HandoffRules.from_policy(POLICY)
    (item,) = await build_queue(store, rules, local(9, 11))
    text = Renderer(ROOT / "templates").text("agents/card", "en", card_context(item, rules.hours))
    assert "Would have sent: shipped, carrier Cainiao, tracking LP1" in text
    assert "Not delivered (held): unpaid/nudge — outside the 24-hour window" in text
