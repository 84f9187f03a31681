"""The unpaid-order journey on the pure engine and a virtual clock."""

from __future__ import annotations

from datetime import timedelta

from tests.dialogs.helpers import Harness

H = timedelta(hours=1)
D = timedelta(days=1)


def test_first_time_buyer_gets_guide_nudge_offer_then_is_let_go() -> None:
    bot = Harness()
    bot.placed(first_order=True)
    assert bot.fire_all(5 * 24 * H) == ["unpaid/payment_help", "unpaid/nudge", "unpaid/offer"]
    assert bot.state == "lost"
    assert [t["kind"] for t in bot.tasks] == ["order_lost"]
    assert bot.timers == {}


def test_returning_buyer_skips_the_guide() -> None:
    bot = Harness()
    bot.placed(first_order=False)
    assert bot.fire_all(13 * H) == ["unpaid/nudge"]


def test_payment_stops_everything_even_when_the_timer_fires_in_the_same_second() -> None:
    bot = Harness()
    bot.placed(first_order=True)
    guide = bot.timers["payment_help"]
    bot.clock.current = guide.due_at
    bot.event("order.paid")  # arrives first, under the same lock
    stale = bot.send("follow_up_due", timer="payment_help", due_at=guide.due_at.isoformat())
    assert stale.outbox == []
    assert bot.said == ["unpaid/paid_thanks"]
    assert bot.fire_all(5 * 24 * H) == []


def test_cancellation_stops_quietly() -> None:
    bot = Harness()
    bot.placed()
    bot.event("order.cancelled", reason="buyer")
    assert bot.said == [] and bot.timers == {}
    assert bot.fire_all(5 * 24 * H) == []


def test_paid_before_placed_never_starts_nudges() -> None:
    bot = Harness()
    bot.event("order.paid")
    bot.placed(first_order=True)
    assert bot.timers == {}
    assert bot.fire_all(5 * 24 * H) == []


def test_a_buyer_who_answers_pay_later_and_goes_quiet_is_reminded_then_offered_then_let_go() -> None:
    bot = Harness()
    bot.placed(first_order=False)
    bot.fire_all(13 * H)
    bot.presses("pay_later")
    assert bot.said[-1] == "unpaid/pay_later"
    assert bot.fire_all(24 * H) == ["unpaid/gentle_reminder"]  # the policy's time after the answer
    # the offer only the day before the platform would close the unpaid order, then lost
    assert bot.fire_all(17 * D) == []
    assert bot.fire_all(2 * D) == ["unpaid/offer"]
    assert bot.fire_all(2 * D) == []
    assert bot.state == "lost" and [t["kind"] for t in bot.tasks] == ["order_lost"]
    assert bot.timers == {}


def test_a_buyer_who_already_had_the_offer_gets_a_last_reminder_before_the_auto_close() -> None:
    bot = Harness()
    bot.placed(first_order=False)
    bot.says("I'm still deciding")
    bot.presses("decline_offer")
    assert bot.fire_all(20 * D) == ["unpaid/last_call"]
    assert bot.state == "lost" and bot.timers == {}


def test_still_deciding_gets_the_offer_and_accepting_creates_a_seller_task() -> None:
    bot = Harness()
    bot.placed(first_order=False, total=40.0)
    bot.says("I'm still thinking about it")
    assert bot.said == ["unpaid/offer"]
    change = bot.presses("accept_offer")
    assert change.outbox[0].context["new_total"] == "US$38.80"
    task = bot.tasks[-1]
    assert task["kind"] == "adjust_price" and task["discount"] == "1.20"
    assert bot.fire_all(5 * 24 * H) == []


def test_discount_is_capped_by_the_policy_maximum() -> None:
    bot = Harness({"unpaid": {"discount_max": "5"}})
    bot.placed(first_order=False, total=1000.0)
    change = bot.says("too expensive, any discount?")
    assert change.outbox[0].context["discount"] == "US$5.00"
    assert change.outbox[0].context["capped"] is True


def test_why_not_paid_answers_each_get_their_own_reply() -> None:
    bot = Harness()
    bot.placed(first_order=False)
    bot.fire_all(13 * H)
    for action, template in [
        ("pay_later", "unpaid/pay_later"),
        ("how_to_pay", "unpaid/payment_methods"),
        ("wrong_item", "unpaid/change_order"),
        ("payment_failed", "unpaid/payment_failed"),
    ]:
        bot.presses(action)
        assert bot.said[-1] == template


def test_low_stock_and_promotion_show_in_the_nudge() -> None:
    bot = Harness()
    bot.clock.current = bot.clock.current.replace(month=11, day=11)
    bot.placed(first_order=False, stock_left=4)
    nudge = bot.fire("nudge").outbox[0]
    assert nudge.context["stock_left"] == 4 and nudge.context["promotion"] == "Double 11"


def test_plenty_of_stock_outside_a_promotion_says_no_number() -> None:
    bot = Harness()
    bot.placed(first_order=False, stock_left=500)
    assert bot.fire("nudge").outbox[0].context["stock_left"] is None


def test_follow_ups_wait_for_the_end_of_the_buyers_quiet_hours() -> None:
    bot = Harness({"quiet_hours": {"start": "21:00", "end": "09:00"}})
    bot.clock.current = bot.clock.current.replace(hour=19, minute=30)  # 20:30 in Madrid
    bot.placed(first_order=True)
    due = bot.timers["payment_help"].due_at
    assert due.hour == 8 and due.minute == 0  # 09:00 Madrid (UTC+1) next morning


def test_a_late_guide_after_downtime_is_skipped_when_the_nudge_is_due() -> None:
    bot = Harness()
    bot.placed(first_order=True)
    bot.advance(13 * H)  # the process was down all day
    timer = bot.timers["payment_help"]
    assert bot.send("follow_up_due", timer="payment_help", due_at=timer.due_at.isoformat()).outbox == []
    assert bot.fire_all(H) == ["unpaid/nudge"]


def test_a_redelivered_timer_fires_once() -> None:
    bot = Harness()
    bot.placed(first_order=True)
    timer = bot.timers["payment_help"]
    bot.fire("payment_help")
    again = bot.send("follow_up_due", timer="payment_help", due_at=timer.due_at.isoformat())
    assert again.outbox == [] and bot.said == ["unpaid/payment_help"]


def test_buyer_text_is_data_never_a_template() -> None:
    bot = Harness()
    bot.placed()
    change = bot.says("{{ 7*7 }} {% for x in range(10**9) %}")
    assert change.transcript[-1].text == "{{ 7*7 }} {% for x in range(10**9) %}"
    assert change.outbox[0].template == "common/not_understood"


def test_two_misunderstandings_in_a_row_bring_a_person() -> None:
    bot = Harness()
    bot.placed()
    bot.says("qwerty asdf")
    change = bot.says("zxcv uiop")
    assert bot.said == ["common/not_understood", "common/handoff"]
    assert change.conversation.ownership == "waiting"
    assert [t["kind"] for t in bot.tasks] == ["handoff"]


def test_an_old_button_changes_nothing() -> None:
    bot = Harness()
    bot.placed(first_order=False)
    bot.event("order.paid")
    change = bot.presses("accept_offer", dialog="unpaid")
    assert change.outbox[0].template == "common/stale_button"
    assert bot.state == "paid"


def test_an_event_stamped_in_the_future_plans_from_now() -> None:
    bot = Harness()
    buyer = {"id": "b", "name": "Ann", "language": "en", "country": "ES", "first_order": True}
    payload = {"type": "order.placed", "order_id": "O-1", "occurred_at": (bot.clock.current + 3 * H).isoformat(),
               "data": {"buyer": buyer, "items": [{"sku": "S", "title": "Lamp", "price": 5}],
                        "total": {"amount": 5, "currency": "USD"}}}  # fmt: skip
    bot.send("order_event", **payload)
    assert bot.timers["payment_help"].due_at == bot.clock.current + H


def test_opening_the_link_on_a_second_device_does_not_welcome_twice() -> None:
    bot = Harness()
    bot.placed()
    bot.send("buyer_bound", channel="webchat", address="phone")
    bot.send("buyer_bound", channel="webchat", address="laptop")
    bot.send("buyer_bound", channel="telegram", address="42")
    assert bot.said == ["common/welcome_bound", "common/welcome_bound"]
