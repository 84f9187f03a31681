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
