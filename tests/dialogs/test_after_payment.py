"""Out of stock, device video, pickup, shipping and order status on the pure
engine and a virtual clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.dialogs.helpers import Harness

H = timedelta(hours=1)
D = timedelta(days=1)
ALTERNATIVES = [
    {"title": "Steel kettle", "url": "https://e.x/1", "price": 27},
    {"title": "Small kettle", "url": "https://e.x/2", "price": 26},
    {"title": "Blue kettle", "url": "https://e.x/3", "price": 25},
    {"title": "Fourth kettle", "url": "https://e.x/4", "price": 24},
]


def paid(country: str = "ES") -> Harness:
    bot = Harness()
    bot.placed(first_order=False, country=country)
    bot.event("order.paid")
    bot.said.clear()
    return bot


def test_out_of_stock_offers_at_most_three_alternatives_then_reminds_then_brings_a_person() -> None:
    bot = paid()
    change = bot.event("item.out_of_stock", sku="S", alternatives=ALTERNATIVES)
    actions = [b["action"] for b in change.outbox[0].buttons]
    assert actions == ["choose_alt_1", "choose_alt_2", "choose_alt_3", "cancel_order", "talk_to_person"]
    assert bot.fire_all(3 * D) == ["out_of_stock/reminder", "common/handoff"]
    assert bot.conversation is not None and bot.conversation.ownership == "waiting"


def test_a_chosen_alternative_becomes_a_seller_task() -> None:
    bot = paid()
    bot.event("item.out_of_stock", sku="S", alternatives=ALTERNATIVES)
    bot.presses("choose_alt_2")
    assert bot.tasks[-1]["kind"] == "replace_item"
    assert bot.tasks[-1]["alternative"]["title"] == "Small kettle"
    assert bot.fire_all(3 * D) == []


@pytest.mark.parametrize(
    ("country", "start_day", "refund_text"),
    [
        ("FR", 3, "13 November"),  # 11 November, Armistice Day, is skipped
        ("BR", 16, "26 November"),  # 20 November, Consciência Negra, is skipped
        ("US", 20, "December 2"),  # weekend and Thanksgiving (26 November) skipped
        ("ES", 3, "12 November"),  # weekends only
    ],
)
def test_refund_date_skips_weekends_and_the_buyers_holidays(country: str, start_day: int, refund_text: str) -> None:
    bot = paid(country)
    bot.clock.current = bot.clock.current.replace(day=start_day, hour=15)
    bot.event("item.out_of_stock", sku="S", alternatives=[])
    change = bot.presses("cancel_order")
    assert change.outbox[0].context["refund_date"] == refund_text


def test_device_video_asks_again_for_what_is_missing_and_hands_the_bundle_to_a_person() -> None:
    bot = paid()
    bot.event("order.delivered")
    bot.event("aftersales.opened", reason="not_working")
    assert bot.said[-1] == "device_video/ask_evidence"
    change = bot.says("see https://example.com/not-a-video")
    assert change.outbox[0].context["bad_link"] is True
    bot.says("", media=[{"kind": "video", "file_id": "vid-1"}])
    assert bot.said[-1] == "device_video/missing"
    bot.says("", media=[{"kind": "photo", "file_id": "pic-1"}])
    assert bot.said[-1] == "device_video/packaging_question"
    bot.presses("packaging_shown")
    assert bot.said[-1] == "device_video/thanks_evidence"
    bundle = next(t for t in bot.tasks if t["kind"] == "evidence_bundle")
    assert bundle["videos"] == ["vid-1"] and bundle["photos"] == ["pic-1"]
    assert bot.conversation is not None and bot.conversation.ownership == "waiting"
    assert bot.order is not None and bot.order.facts["evidence"]["videos"] == ["vid-1"]


def test_buyer_saying_it_does_not_work_starts_the_video_dialog() -> None:
    bot = paid()
    bot.event("order.delivered")
    bot.says("the device is not working, it won't turn on")
    assert bot.said[-1] == "device_video/ask_evidence"


def test_a_dispute_elsewhere_hands_to_a_person_at_once() -> None:
    bot = paid()
    bot.event("dispute.opened", reason="not_received")
    assert bot.said == ["common/handoff"]


def test_pickup_reminders_every_three_days_a_last_one_then_a_person() -> None:
    bot = paid()
    deadline = (bot.clock.current + 10 * D).date().isoformat()
    first = bot.event("order.awaiting_pickup", office="Post office 5", pickup_deadline=deadline)
    assert first.outbox[0].template == "pickup/reminder" and first.outbox[0].context["office"] == "Post office 5"
    said = bot.fire_all(12 * D)  # day 3, day 6, then day 8.5 (2 days before the deadline)
    assert said == ["pickup/reminder"] * 2 + ["pickup/last_reminder"]
    assert bot.tasks[-1]["kind"] == "handoff" and bot.tasks[-2]["kind"] == "pickup_deadline_passed"


def test_pickup_stops_when_delivered() -> None:
    bot = paid()
    deadline = (bot.clock.current + 10 * D).date().isoformat()
    bot.event("order.awaiting_pickup", office="Post office 5", pickup_deadline=deadline)
    bot.advance(D)
    bot.event("order.delivered")
    assert bot.fire_all(12 * D) == ["shipping/how_did_it_go"]


def test_shipping_messages_and_no_review_request_before_the_buyer_is_happy() -> None:
    bot = paid()
    change = bot.event("order.shipped", carrier="Cainiao", tracking_number="LP1", tracking_url="https://t/LP1",
                       eta_days=14)  # fmt: skip
    assert change.outbox[0].context["tracking_number"] == "LP1"
    bot.event("order.at_customs")
    bot.event("order.delivered")
    assert bot.said == ["shipping/shipped", "shipping/at_customs", "shipping/delivered"]
    assert bot.fire_all(3 * D) == ["shipping/how_did_it_go"]
    bot.presses("all_good")
    assert bot.said[-1] == "shipping/happy"


def test_a_problem_after_delivery_leads_to_the_after_sales_dialog() -> None:
    bot = paid()
    bot.event("order.delivered")
    bot.fire_all(3 * D)
    bot.presses("problem")
    bot.presses("not_working")
    assert bot.said[-1] == "device_video/ask_evidence"


def test_feedback_gets_thanks_or_a_person() -> None:
    happy, unhappy = paid(), paid()
    happy.event("feedback.left", stars=5, text="great")
    unhappy.event("feedback.left", stars=1, text="broken")
    assert happy.said == ["shipping/feedback_thanks"]
    assert unhappy.said == ["common/handoff"]


def test_where_is_my_order_answers_from_the_latest_events() -> None:
    bot = paid()
    bot.event("order.shipped", carrier="Cainiao", tracking_number="LP1", tracking_url="https://t/LP1", eta_days=14)
    change = bot.says("where is my order??")
    assert change.outbox[0].template == "common/order_status"
    assert change.outbox[0].context["tracking_url"] == "https://t/LP1"
