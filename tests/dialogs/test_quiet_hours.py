"""Nothing buyer-facing in the buyer's night: follow-ups wait for the morning,
a message that must precede a deadline moves earlier, event messages wait for
the morning; only internal work (hand-offs, seller tasks) runs at any hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.dialogs.helpers import Harness

H = timedelta(hours=1)
D = timedelta(days=1)
MADRID = ZoneInfo("Europe/Madrid")
NIGHT = {"quiet_hours": {"start": "21:00", "end": "09:00"}}


def local(moment: datetime) -> datetime:
    return moment.astimezone(MADRID)


def paid_buyer_in_madrid() -> Harness:
    bot = Harness(NIGHT)
    bot.placed(first_order=False)
    bot.event("order.paid")
    bot.said.clear()
    return bot


def test_the_last_pickup_reminder_moves_earlier_into_the_evening_not_to_midnight() -> None:
    bot = paid_buyer_in_madrid()
    deadline = (bot.clock.current + 10 * D).date()
    bot.event("order.awaiting_pickup", office="Post office 5", pickup_deadline=deadline.isoformat())
    last = local(bot.timers["last_reminder"].due_at)
    assert (last.date(), last.hour, last.minute) == (deadline - 2 * D, 20, 0)
    # the hand-off after the deadline is internal work: it keeps its time
    assert local(bot.timers["deadline"].due_at).date() == deadline + D


def test_a_deadline_message_planned_during_the_night_waits_for_the_morning_not_now() -> None:
    bot = paid_buyer_in_madrid()
    bot.clock.current = datetime(2026, 11, 3, 22, 0, tzinfo=UTC)  # 23:00 in Madrid
    deadline = datetime(2026, 11, 6, 1, 0, tzinfo=UTC)  # 02:00 Madrid; last reminder due 02:00 on the 4th
    bot.event("order.awaiting_pickup", office="Post office 5", pickup_deadline=deadline.isoformat())
    last = local(bot.timers["last_reminder"].due_at)
    assert (last.day, last.hour) == (4, 9)


def at_local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=MADRID).astimezone(UTC)


def test_a_shipped_notice_at_three_in_the_morning_waits_for_the_buyers_morning() -> None:
    bot = paid_buyer_in_madrid()
    bot.clock.current = at_local(4, 3)
    change = bot.event("order.shipped", carrier="Cainiao", tracking_number="LP1", tracking_url="", eta_days=14)
    assert change.outbox == []
    assert local(bot.timers["held_release"].due_at) == at_local(4, 9)
    morning = bot.fire("held_release")
    assert [m.template for m in morning.outbox] == ["shipping/shipped"]
    assert morning.outbox[0].context["tracking_number"] == "LP1"


def test_several_night_events_become_one_morning_status() -> None:
    bot = paid_buyer_in_madrid()
    bot.clock.current = at_local(4, 1)
    bot.event("order.shipped", carrier="Cainiao", tracking_number="LP1", tracking_url="", eta_days=14)
    bot.advance(2 * H)
    bot.event("order.at_customs")
    morning = bot.fire("held_release")
    assert [m.template for m in morning.outbox] == ["common/status_update"]
    assert morning.outbox[0].context["status"] == "at_customs"
    assert morning.outbox[0].context["tracking_number"] == "LP1"
    assert bot.fire_all(2 * D) == []  # nothing else held back


def test_event_messages_may_go_out_at_night_when_the_policy_says_so() -> None:
    bot = Harness({"quiet_hours": {"start": "21:00", "end": "09:00", "hold_event_messages": False}})
    bot.placed(first_order=False)
    bot.event("order.paid")
    bot.clock.current = at_local(4, 3)
    change = bot.event("order.shipped", carrier="Cainiao", tracking_number="LP1", tracking_url="", eta_days=14)
    assert [m.template for m in change.outbox] == ["shipping/shipped"]


def test_a_hand_off_at_four_in_the_morning_reaches_the_agents_now_and_the_buyer_in_the_morning() -> None:
    bot = Harness({**NIGHT, "out_of_stock": {"agent_after": "36h"}})
    bot.placed(first_order=False)
    bot.event("order.paid")
    bot.clock.current = at_local(2, 16)
    bot.event("item.out_of_stock", sku="S", alternatives=[{"title": "Other lamp", "url": "", "price": 20}])
    bot.said.clear()
    bot.fire("reminder")
    night = bot.fire("agent")
    assert local(bot.clock.current) == at_local(4, 4)
    assert night.outbox == [] and [t["kind"] for t in night.tasks] == ["handoff"]
    morning = bot.fire("held_release")
    assert local(bot.clock.current) == at_local(4, 9)
    assert [m.template for m in morning.outbox] == ["common/handoff"]


def test_a_buyer_who_writes_at_night_gets_an_answer_at_once() -> None:
    bot = paid_buyer_in_madrid()
    bot.clock.current = at_local(4, 2)
    change = bot.says("where is my order?")
    assert [m.template for m in change.outbox] == ["common/order_status"]


def test_payment_guide_and_nudge_pushed_to_the_same_morning_keep_a_gap() -> None:
    bot = Harness(NIGHT)
    bot.clock.current = at_local(3, 20, 30)  # a first-time buyer orders in the evening
    bot.placed(first_order=True)
    guide = bot.fire("payment_help")
    assert local(bot.clock.current) == at_local(4, 9) and guide.outbox[0].template == "unpaid/payment_help"
    assert bot.timers["nudge"].due_at == at_local(4, 13)  # the policy's 4 h after the guide
    assert bot.fire("nudge").outbox[0].template == "unpaid/nudge"


def test_the_gap_between_steps_is_a_policy() -> None:
    bot = Harness({**NIGHT, "follow_ups": {"min_gap": "2h"}})
    bot.clock.current = at_local(3, 20, 30)
    bot.placed(first_order=True)
    bot.fire("payment_help")
    assert bot.timers["nudge"].due_at == at_local(4, 11)
