"""Nothing automatic reaches a buyer while a person owns the chat: what would
have gone out is held and shown to the agent; the hand-back sends one short
status of what is still true, never a burst of stale messages."""

from __future__ import annotations

from datetime import timedelta

from tests.dialogs.helpers import Harness

H = timedelta(hours=1)
D = timedelta(days=1)


def handed_off(*, paid: bool = True) -> Harness:
    bot = Harness()
    bot.placed(first_order=False)
    if paid:
        bot.event("order.paid")
    bot.presses("talk_to_person")
    bot.send("agent_claimed", agent="maria")
    bot.said.clear()
    return bot


def test_payment_while_a_person_owns_the_chat_sends_nothing_and_the_agent_sees_it() -> None:
    bot = handed_off(paid=False)
    change = bot.event("order.paid")
    assert change.outbox == []
    assert any(e.author == "note" and "unpaid/paid_thanks" in e.text for e in change.transcript)
    assert bot.conversation is not None
    assert [h["template"] for h in bot.conversation.memory["held"]] == ["unpaid/paid_thanks"]


def test_shipped_and_customs_while_owned_become_one_status_on_hand_back() -> None:
    bot = handed_off()
    assert bot.event("order.shipped", carrier="Cainiao", tracking_number="LP1", tracking_url="https://t/LP1",
                     eta_days=14).outbox == []  # fmt: skip
    assert bot.event("order.at_customs").outbox == []
    bot.advance(2 * H)
    back = bot.send("agent_handed_back", agent="maria")
    assert [m.template for m in back.outbox] == ["common/status_update"]
    context = back.outbox[0].context
    assert (context["status"], context["tracking_number"], context["why"]) == ("at_customs", "LP1", "person")
    assert bot.conversation is not None and "held" not in bot.conversation.memory
    assert bot.fire_all(D) == []  # and nothing else comes after it


def test_a_single_held_message_still_current_goes_out_as_it_was() -> None:
    bot = handed_off(paid=False)
    bot.event("order.paid")
    back = bot.send("agent_handed_back", agent="maria")
    assert [m.template for m in back.outbox] == ["unpaid/paid_thanks"]


def test_a_question_held_for_the_agent_is_folded_into_the_status_with_its_buttons() -> None:
    bot = handed_off()
    bot.event("order.shipped", carrier="Cainiao", tracking_number="LP1", tracking_url="", eta_days=14)
    bot.event("order.delivered")
    bot.event("aftersales.opened", reason="damaged")
    back = bot.send("agent_handed_back", agent="maria")
    assert [m.template for m in back.outbox] == ["common/status_update"]
    message = back.outbox[0]
    assert message.context["pending"] == "device_video/ask_damage_photos"
    assert [b["action"] for b in message.buttons] == ["talk_to_person"]


def test_timers_armed_while_owned_wait_for_the_hand_back() -> None:
    bot = handed_off()
    bot.event("order.delivered")  # plans "how did it go?" in 2 days
    assert "check" not in bot.timers
    bot.advance(3 * D)
    back = bot.send("agent_handed_back", agent="maria")
    assert [m.template for m in back.outbox] == ["shipping/delivered"]
    assert bot.timers["check"].due_at == bot.clock.current + 2 * D


def test_an_agents_own_message_still_reaches_the_buyer() -> None:
    bot = handed_off()
    change = bot.send("agent_replied", agent="maria", text="Hi! It ships tomorrow.")
    assert [m.template for m in change.outbox] == ["common/agent_message"]
