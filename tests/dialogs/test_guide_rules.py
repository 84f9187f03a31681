"""The seller guides' rules on the pure engine and a virtual clock: order
confirmation, transit updates, buyer protection, the default dispute deadline,
customs, seasonal after-sales, return shipping, refund-only reviews, large orders."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dialogs.policy import PolicyError, load_policy, policy_from_dict
from tests.dialogs.helpers import Harness

ROOT = Path(__file__).resolve().parents[2]

H = timedelta(hours=1)
D = timedelta(days=1)


def placed(bot: Harness, *, country: str = "ES", buyer: dict[str, Any] | None = None, **item: Any) -> None:
    details = {"id": "b", "name": "Ann", "language": "en", "country": country, "first_order": False, **(buyer or {})}
    line = {"sku": "S", "title": "Lamp", "price": 20.0, "qty": 1, **item}
    total = float(line["price"]) * int(line["qty"])
    bot.event("order.placed", buyer=details, items=[line], total={"amount": total, "currency": "USD"})


def shipped(policy: dict[str, Any] | None = None, country: str = "ES", eta_days: int = 20, **item: Any) -> Harness:
    bot = Harness(policy)
    placed(bot, country=country, **item)
    bot.event("order.paid")
    bot.event("order.shipped", carrier="Cainiao", tracking_number="LP1", tracking_url="https://t/LP1",
              eta_days=eta_days)  # fmt: skip
    bot.said.clear()
    return bot


def kinds(bot: Harness) -> list[str]:
    return [task["kind"] for task in bot.tasks]


# -- order confirmation -------------------------------------------------------------


def test_the_order_is_confirmed_at_once_with_items_and_total_when_switched_on() -> None:
    bot = Harness({"order_confirmation": {"enabled": True}})
    change = bot.placed(first_order=True, total=25.0)
    message = change.outbox[0]
    assert message.template == "unpaid/confirmation"
    assert message.context["items"] == [{"title": "Lamp", "qty": "1", "price": "US$25.00"}]
    assert message.context["total"] == "US$25.00"  # an English-speaking buyer in Spain
    assert bot.fire_all(2 * H) == ["unpaid/payment_help"]  # the journey goes on as before


def test_no_confirmation_when_switched_off() -> None:
    bot = Harness({"order_confirmation": {"enabled": False}})
    assert bot.placed(first_order=True).outbox == []


# -- transit --------------------------------------------------------------------------


def test_a_quiet_parcel_gets_a_still_on_its_way_note_after_a_week() -> None:
    bot = shipped()
    assert bot.fire_all(6 * D) == []
    assert bot.fire_all(2 * D) == ["shipping/transit_update"]
    assert bot.fire_all(7 * D) == []  # once per quiet stretch, not every week
    assert kinds(bot) == []


def test_a_new_event_restarts_the_quiet_week() -> None:
    bot = shipped()
    bot.advance(5 * D)
    bot.event("order.at_customs")
    assert bot.fire_all(6 * D) == []
    assert bot.fire_all(2 * D) == ["shipping/transit_update"]


def test_after_the_eta_an_apology_and_a_seller_task_to_check_the_parcel() -> None:
    bot = shipped(eta_days=10)
    said = bot.fire_all(12 * D)
    assert said == ["shipping/transit_update", "shipping/transit_late"]
    task = bot.tasks[-1]
    assert task["kind"] == "check_parcel" and task["tracking_number"] == "LP1"
    assert bot.fire_all(20 * D) == []  # no "still on its way" after the apology, no second task
    assert kinds(bot) == ["check_parcel"]


def test_a_parcel_without_an_eta_still_ends_in_an_apology_and_a_check() -> None:
    """No ETA from the carrier must not leave a quiet parcel waiting forever."""
    bot = shipped(eta_days=0)
    said = bot.fire_all(29 * D)
    assert said == ["shipping/transit_update"]
    assert bot.fire_all(3 * D) == ["shipping/transit_late"]  # the assumed 30 days plus the grace day
    assert kinds(bot)[-1] == "check_parcel"


def test_delivery_stops_the_transit_watch() -> None:
    bot = shipped(eta_days=10)
    bot.advance(3 * D)
    bot.event("order.delivered")
    assert bot.fire_all(30 * D) == ["shipping/how_did_it_go"]
    assert "check_parcel" not in kinds(bot)


# -- buyer protection ---------------------------------------------------------------


def test_before_buyer_protection_ends_a_seller_task_to_extend_the_receipt_time() -> None:
    policy = {"buyer_protection": {"default": "60d", "extend_before": "5d", "countries": {"BR": "90d"}}}
    spain, brazil = shipped(policy, "ES"), shipped(policy, "BR")
    start = spain.clock.current
    spain.fire_all(60 * D)
    extend = next(t for t in spain.tasks if t["kind"] == "extend_receipt_time")
    assert datetime.fromisoformat(extend["at"]) - start == 55 * D
    brazil.fire_all(60 * D)
    assert "extend_receipt_time" not in kinds(brazil)
    brazil.fire_all(30 * D)
    assert "extend_receipt_time" in kinds(brazil)


def test_no_protection_task_once_delivered() -> None:
    bot = shipped({"buyer_protection": {"default": "60d", "extend_before": "5d"}})
    bot.advance(20 * D)
    bot.event("order.delivered")
    bot.fire_all(60 * D)
    assert "extend_receipt_time" not in kinds(bot)


def test_the_protection_task_comes_even_while_a_person_has_the_chat() -> None:
    bot = shipped({"buyer_protection": {"default": "60d", "extend_before": "5d"}})
    bot.says("talk to a person please")
    assert bot.conversation is not None and bot.conversation.ownership == "waiting"
    bot.fire_all(56 * D)
    assert "extend_receipt_time" in kinds(bot)


# -- disputes -------------------------------------------------------------------------


def test_a_dispute_without_a_date_gets_five_days_from_the_event() -> None:
    bot = shipped()
    start = bot.clock.current
    bot.event("dispute.opened", reason="not_received")
    assert bot.order is not None
    respond_by = datetime.fromisoformat(bot.order.facts["dispute.opened"]["respond_by"])
    assert respond_by - start == 5 * D
    task = next(t for t in bot.tasks if t["kind"] == "answer_dispute")
    assert task["respond_by"] == respond_by.isoformat() and task["date_given_by_platform"] is False


def test_a_dispute_with_a_date_keeps_it() -> None:
    bot = shipped()
    bot.event("dispute.opened", reason="not_received", respond_by="2026-11-04T12:00:00+00:00")
    assert bot.order is not None
    assert bot.order.facts["dispute.opened"]["respond_by"] == "2026-11-04T12:00:00+00:00"


# -- customs --------------------------------------------------------------------------


def test_customs_warns_about_duties_and_paperwork_where_the_policy_says() -> None:
    policy = {"customs": {"duties": ["BR"], "declaration": ["BR"]}}
    brazil, spain = shipped(policy, "BR"), shipped(policy, "ES")
    at_brazil = brazil.event("order.at_customs").outbox[0].context
    at_spain = spain.event("order.at_customs").outbox[0].context
    assert (at_brazil["duties"], at_brazil["declaration"]) == (True, True)
    assert (at_spain["duties"], at_spain["declaration"]) == (False, False)


# -- seasonal goods and the after-sales window ------------------------------------------


def delivered(seasonal: bool, policy: dict[str, Any] | None = None) -> Harness:
    bot = shipped(policy, seasonal=seasonal)
    bot.advance(10 * D)
    bot.event("order.delivered")
    bot.fire_all(3 * D)
    bot.said.clear()
    return bot


def test_seasonal_items_after_sales_closes_fifteen_days_after_delivery() -> None:
    bot = delivered(seasonal=True)
    bot.advance(13 * D)  # 16 days after delivery
    change = bot.event("aftersales.opened", reason="not_working")
    assert [m.template for m in change.outbox] == ["common/aftersales_closed"]
    assert change.outbox[0].context["seasonal"] is True and change.outbox[0].context["days"] == 15
    assert kinds(bot)[-1] == "aftersales_outside_window"
    assert bot.conversation is not None and bot.conversation.ownership == "bot"  # not the full flow


def test_within_the_window_the_full_flow_runs() -> None:
    seasonal, ordinary = delivered(seasonal=True), delivered(seasonal=False)
    seasonal.advance(10 * D)
    ordinary.advance(13 * D)  # 16 days after delivery: ordinary goods have 90 days after payment
    assert seasonal.event("aftersales.opened", reason="not_working").outbox[0].template == "device_video/ask_evidence"
    assert ordinary.event("aftersales.opened", reason="not_working").outbox[0].template == "device_video/ask_evidence"


def test_ordinary_items_after_sales_closes_ninety_days_after_payment() -> None:
    bot = delivered(seasonal=False)
    bot.advance(80 * D)
    bot.says("it doesn't work anymore")
    assert bot.said[-1] == "common/aftersales_closed"
    assert kinds(bot)[-1] == "aftersales_outside_window"


# -- returns --------------------------------------------------------------------------


def asked_to_return(returns_this_month: int | None) -> Harness:
    bot = Harness()
    placed(bot, buyer={"returns_this_month": returns_this_month}, category="clothing")
    bot.event("order.paid")
    bot.event("order.shipped", carrier="C", tracking_number="T", eta_days=10)
    bot.event("order.delivered")
    bot.fire_all(3 * D)
    bot.presses("no")
    bot.presses("return_item")
    return bot


def test_the_store_pays_the_return_shipping_up_to_the_monthly_threshold() -> None:
    for returns in (None, 0, 4):
        bot = asked_to_return(returns)
        assert bot.said[-1] == "shipping/return_shipping"
        assert bot.tasks[-2]["kind"] == "return_requested"
        assert bot.tasks[-2]["buyer_pays_return_shipping"] is False


RETURN_TYPED = {
    "en": "hi, I'd like to send it back",
    "ru": "я хочу вернуть товар",
    "es": "quiero devolverlo, ¿cómo hago?",
    "pt": "quero devolver",
    "fr": "je veux le retourner",
}


@pytest.mark.parametrize("problem_buttons", [True, False])
@pytest.mark.parametrize("language", sorted(RETURN_TYPED))
def test_a_typed_return_request_is_the_return_button(language: str, problem_buttons: bool) -> None:
    bot = Harness()
    placed(bot, buyer={"returns_this_month": 1, "language": language}, category="clothing")
    bot.event("order.paid")
    bot.event("order.shipped", carrier="C", tracking_number="T", eta_days=10)
    bot.event("order.delivered")
    bot.fire_all(3 * D)
    if problem_buttons:  # "Return it" is one of the buttons shown
        bot.presses("no")
    bot.says(RETURN_TYPED[language])  # else: typed to "how did it go?", whose buttons are all good / a problem
    assert bot.said[-1] == "shipping/return_shipping"
    assert bot.tasks[-2]["kind"] == "return_requested"


def test_after_more_than_five_returns_in_a_month_the_buyer_pays() -> None:
    bot = asked_to_return(5)  # this one would be the sixth
    assert bot.tasks[-2]["buyer_pays_return_shipping"] is True
    assert bot.conversation is not None and bot.conversation.ownership == "waiting"  # a person sends the address


# -- repeated refund-only requests ----------------------------------------------------


def test_repeated_refund_only_requests_make_a_review_task_and_the_buyer_is_treated_as_usual() -> None:
    bot = Harness()
    placed(bot, buyer={"refund_only_requests": 2})
    bot.event("order.paid")
    bot.event("order.delivered")
    change = bot.event("aftersales.opened", reason="not_as_described", refund_only=True)
    review = next(t for t in bot.tasks if t["kind"] == "review_refund_requests")
    assert review["refund_only_requests"] == 3 and review["buyer_id"] == "b"
    assert [m.template for m in change.outbox] == ["common/handoff"]  # the usual polite hand-off


def test_a_first_refund_only_request_is_not_reviewed() -> None:
    bot = Harness()
    placed(bot)
    bot.event("order.paid")
    bot.event("aftersales.opened", reason="not_as_described", refund_only=True)
    assert "review_refund_requests" not in kinds(bot)


# -- large orders -----------------------------------------------------------------------


def test_large_order_flag_in_the_nudge() -> None:
    bot = Harness({"unpaid": {"large_order_quantity": 10}})
    placed(bot, qty=10, price=2.0)
    change = bot.fire("nudge")
    assert change.outbox[0].context["large_order"] is True and change.outbox[0].context["quantity"] == "10"
    other = Harness({"unpaid": {"large_order_quantity": 10}})
    placed(other, qty=9, price=2.0)
    assert other.fire("nudge").outbox[0].context["large_order"] is False


# -- the policy ---------------------------------------------------------------------------


def test_the_shipped_policy_file_holds_every_guide_rule() -> None:
    guides = load_policy(ROOT / "policy.toml").guides
    assert guides.confirmation is True
    assert (guides.transit_update_after, guides.dispute_respond_within) == (7 * D, 5 * D)
    assert (guides.protection("BR"), guides.protection("ES"), guides.protection_warn_before) == (90 * D, 60 * D, 5 * D)
    assert (guides.seasonal_window, guides.aftersales_window) == (15 * D, 90 * D)
    assert (guides.free_returns_per_month, guides.refund_only_review_at) == (5, 3)
    assert "BR" in guides.customs_duties and "BR" in guides.customs_declaration


@pytest.mark.parametrize(
    "bad",
    [
        {"customs": {"duties": ["BRA"]}},
        {"returns": {"free_returns_per_month": -1}},
        {"buyer_protection": {"countries": {"BR": "ninety days"}}},
        {"out_of_stock": {"seller_absorbs_up_to": "a lot"}},
    ],
)
def test_a_wrong_guide_rule_value_is_refused_with_its_name(bad: dict[str, Any]) -> None:
    section = next(iter(bad))
    with pytest.raises(PolicyError, match=section):
        policy_from_dict(bad)
