"""Hand-off to a person and back, and the always-online auto-replies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.dialogs.helpers import Harness

H = timedelta(hours=1)
D = timedelta(days=1)


@pytest.mark.parametrize(
    "words",
    ["I will open a dispute", "хочу возврат денег", "esto es una estafa", "quero reembolso", "arnaque !"],
)
def test_dispute_refund_scam_words_bring_a_person_in_any_language(words: str) -> None:
    bot = Harness()
    bot.placed()
    bot.says(words)
    assert bot.said == ["common/handoff"]
    assert bot.tasks[-1]["reason"] == "escalation_words"


def test_while_a_person_owns_the_chat_the_bot_says_nothing_and_timers_pause() -> None:
    bot = Harness()
    bot.placed(first_order=False)
    bot.presses("talk_to_person")
    assert bot.timers == {}  # the nudge is paused, not lost
    bot.send("agent_claimed", agent="maria")
    change = bot.says("hello? how do I pay?")
    assert change.outbox == [] and change.transcript[-1].text == "hello? how do I pay?"
    assert bot.fire_all(5 * D) == []


def test_hand_back_resumes_the_interrupted_step_with_timers_replanned_from_now() -> None:
    bot = Harness()
    bot.placed(first_order=False)  # nudge due at +12 h
    bot.advance(2 * H)
    bot.presses("talk_to_person")
    bot.send("agent_claimed", agent="maria")
    bot.send("agent_replied", agent="maria", text="Hi! Paying by card works, try again please.")
    bot.advance(2 * D)
    handed_back = bot.send("agent_handed_back", agent="maria")
    assert handed_back.outbox == []  # no survey, no restart
    assert bot.state == "placed"
    assert bot.timers["nudge"].due_at == bot.clock.current + 10 * H  # what was left: 10 h
    assert bot.fire_all(11 * H) == ["unpaid/nudge"]


def test_the_agents_text_reaches_the_buyer_as_data() -> None:
    bot = Harness()
    bot.placed()
    change = bot.send("agent_replied", agent="maria", text="{{ order_id }} is fine")
    message = change.outbox[0]
    assert message.template == "common/agent_message" and message.context["text"] == "{{ order_id }} is fine"
    assert message.context["author"] == "agent"


def test_off_hours_question_gets_one_auto_reply_with_the_buyers_local_time() -> None:
    bot = Harness()
    # Sunday 22 Nov, 10:00 in Madrid: the store reopens Monday 09:00 Shanghai (02:00 Madrid)
    bot.clock.current = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    bot.placed()
    handoff = bot.says("I want to talk to a person")
    assert handoff.outbox[0].context["team_away"] is True
    assert handoff.outbox[0].context["back_at"] == "Monday 23 November, 02:00"
    bot.advance(H)
    assert bot.says("hello??").outbox == []  # the hand-off already said when
    bot.advance(23 * H)  # Monday 09:00 UTC = 17:00 Shanghai: open, a person answers today, said once
    soon = bot.says("anyone?").outbox
    assert [m.template for m in soon] == ["common/person_soon"]
    assert soon[0].context["until"] == "Monday 23 November, 11:00"  # 18:00 in Shanghai, in Madrid
    assert bot.says("hello?").outbox == []
    bot.advance(3 * H)  # Monday 20:00 Shanghai: a new off-period
    away = bot.says("still waiting")
    assert [m.template for m in away.outbox] == ["common/away"]
    assert bot.says("please").outbox == []


def test_no_auto_reply_while_the_bot_answers_itself() -> None:
    bot = Harness()
    bot.clock.current = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # store closed
    bot.placed(first_order=False)
    change = bot.says("how can I pay?")
    assert [m.template for m in change.outbox] == ["unpaid/payment_methods"]


def test_high_value_orders_go_to_a_person_quietly() -> None:
    bot = Harness({"handoff": {"high_value": 500}})
    bot.placed(total=800.0)
    assert bot.said == [] and bot.timers == {}
    assert bot.conversation is not None and bot.conversation.ownership == "waiting"
    assert bot.tasks[-1]["reason"] == "high_value"


def _placed_by(buyer: dict[str, str]) -> Harness:
    bot = Harness()
    items = [{"sku": "S", "title": "Lamp", "price": 5}]
    bot.event("order.placed", buyer={"id": "b", **buyer}, items=items, total={"amount": 5, "currency": "USD"})
    return bot


def test_language_order_first_then_channel_then_text() -> None:
    by_order = _placed_by({"language": "pt-BR", "country": "BR"})
    by_order.says("hello", language_code="ru")
    assert by_order.conversation is not None and by_order.conversation.language == "pt"

    by_channel = _placed_by({"country": "FR"})
    by_channel.says("hello", language_code="fr")
    assert by_channel.conversation is not None and by_channel.conversation.language == "fr"

    by_text = _placed_by({"language": "de", "country": "ES"})
    by_text.says("¿cómo puedo pagar mi pedido?")
    assert by_text.conversation is not None and by_text.conversation.language == "es"


def test_an_agents_offer_uses_their_percent_within_the_ceiling() -> None:
    bot = Harness({"handoff": {"max_offer_percent": 8}})
    bot.placed(first_order=False, total=100.0)
    bot.presses("talk_to_person")
    bot.send("agent_claimed", agent="maria")
    offer = bot.send("agent_offered", agent="maria", percent=15).outbox[0]
    assert offer.template == "unpaid/offer" and offer.context["percent"] == "8%"
    bot.send("agent_handed_back", agent="maria")
    accepted = bot.presses("accept_offer")
    assert accepted.outbox[0].context["new_total"] == "US$92.00"
    assert bot.tasks[-1]["kind"] == "adjust_price" and bot.tasks[-1]["percent"] == "8"
