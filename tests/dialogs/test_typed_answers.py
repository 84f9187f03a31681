"""Typed answers to the current question: yes, no, a button's label or its number typed in
words mean that step's buttons, in every language; a misunderstanding keeps the buttons."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from dialogs.model import LANGUAGES
from tests.dialogs.helpers import Harness

H = timedelta(hours=1)
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def labels(language: str) -> dict[str, str]:
    return tomllib.loads((TEMPLATES / language / "buttons.toml").read_text(encoding="utf-8"))


def placed(bot: Harness, language: str, **item: Any) -> None:
    buyer = {"id": "b", "name": "Ann", "language": language, "country": "ES", "first_order": False}
    bot.event("order.placed", buyer=buyer, items=[{"sku": "S", "title": "Lamp", "price": 40.0, **item}],
              total={"amount": 40.0, "currency": "USD"})  # fmt: skip


def at_offer(language: str) -> Harness:
    bot = Harness()
    placed(bot, language)
    bot.fire_all(13 * H)
    bot.says({"en": "too expensive", "ru": "дорого", "es": "muy caro", "pt": "muito caro", "fr": "trop cher"}[language])
    assert bot.said[-1] == "unpaid/offer" and bot.state == "offer_made"
    return bot


def at_nudge(language: str) -> Harness:
    bot = Harness()
    placed(bot, language)
    assert bot.fire_all(13 * H) == ["unpaid/nudge"]
    return bot


ACCEPTING = {
    "en": ["yes please, apply the discount", "yes", "ok go ahead", "sure, apply it"],
    "ru": ["да, пожалуйста, примените скидку", "да", "давайте", "хорошо, применяйте"],
    "es": ["sí por favor, aplique el descuento", "sí", "dale", "ok, aplícalo"],
    "pt": ["sim, por favor, aplica o desconto", "sim", "pode ser", "ok, pode aplicar"],
    "fr": ["oui s'il vous plaît, appliquez la remise", "oui", "d'accord", "ok, appliquez-la"],
}
DECLINING = {
    "en": ["no", "no thanks", "nah, not interested"],
    "ru": ["нет", "нет, спасибо", "не, не надо"],
    "es": ["no", "no, gracias", "no me interesa"],
    "pt": ["não", "não, obrigado", "não quero"],
    "fr": ["non", "non merci", "ça ne m'intéresse pas"],
}


@pytest.mark.parametrize(("language", "text"), [(k, t) for k, v in ACCEPTING.items() for t in v])
def test_a_typed_yes_accepts_the_offer(language: str, text: str) -> None:
    bot = at_offer(language)
    bot.says(text)
    assert bot.state == "offer_accepted", (language, text, bot.said[-1])
    assert bot.said[-1] == "unpaid/offer_accepted"
    assert bot.tasks[-1]["kind"] == "adjust_price"


@pytest.mark.parametrize(("language", "text"), [(k, t) for k, v in DECLINING.items() for t in v])
def test_a_typed_no_declines_the_offer(language: str, text: str) -> None:
    bot = at_offer(language)
    bot.says(text)
    assert bot.state == "declined", (language, text, bot.said[-1])
    assert bot.said[-1] == "unpaid/offer_declined"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_offer_buttons_typed_as_their_labels(language: str) -> None:
    for action, state in [("accept_offer", "offer_accepted"), ("decline_offer", "declined")]:
        bot = at_offer(language)
        bot.says(labels(language)[action])
        assert bot.state == state, (language, labels(language)[action])


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_misunderstanding_keeps_the_offer_buttons(language: str) -> None:
    bot = at_offer(language)
    change = bot.says("qwerty zxcvb")
    assert change.outbox[0].template == "common/not_understood"
    actions = [b["action"] for b in change.outbox[0].buttons]
    assert actions[:2] == ["accept_offer", "decline_offer"] and "talk_to_person" in actions
    bot.presses("accept_offer")  # the re-shown button still works
    assert bot.state == "offer_accepted"


def test_the_offer_button_number_typed_when_the_channel_showed_a_list() -> None:
    bot = at_offer("en")
    bot.says("2")
    assert bot.state == "declined"


NUDGE_ANSWERS = {
    "paid_already": "unpaid/payment_claimed",
    "pay_later": "unpaid/pay_later",
    "how_to_pay": "unpaid/payment_methods",
    "wrong_item": "unpaid/change_order",
    "still_deciding": "unpaid/offer",
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("action", "template"), NUDGE_ANSWERS.items())
def test_the_nudge_buttons_typed_as_their_labels(language: str, action: str, template: str) -> None:
    bot = at_nudge(language)
    bot.says(labels(language)[action])
    assert bot.said[-1] == template, (language, labels(language)[action])


NO_MONEY = {
    "en": ["No money right now", "I don't have the money at the moment", "broke till payday"],
    "ru": ["Сейчас нет денег", "денег пока нет", "на карте пусто"],
    "es": ["Ahora mismo no tengo dinero", "no tengo plata por ahora", "ando sin dinero"],
    "pt": ["Estou sem dinheiro agora", "tô sem grana no momento", "não tenho dinheiro agora"],
    "fr": ["Pas d'argent pour l'instant", "je n'ai pas les sous en ce moment", "je suis fauché en ce moment"],
}


@pytest.mark.parametrize(("language", "text"), [(k, t) for k, v in NO_MONEY.items() for t in v])
def test_no_money_right_now_is_understood_at_the_nudge(language: str, text: str) -> None:
    bot = at_nudge(language)
    bot.says(text)
    assert bot.said[-1] in ("unpaid/payment_methods", "unpaid/pay_later"), (language, text, bot.said[-1])


def at_packaging_question(language: str) -> Harness:
    bot = Harness()
    placed(bot, language)
    bot.event("order.paid")
    bot.event("order.shipped", carrier="X", tracking_number="T", tracking_url="https://t", eta_days=10)
    bot.event("order.delivered")
    bot.event("aftersales.opened", reason="not_working")
    bot.says("", media=[{"kind": "video", "file_id": "v"}, {"kind": "photo", "file_id": "p"}])
    assert bot.said[-1] == "device_video/packaging_question"
    return bot


YES_NO = {"en": ("yes", "no"), "ru": ("да", "нет"), "es": ("sí", "no"), "pt": ("sim", "não"), "fr": ("oui", "non")}


@pytest.mark.parametrize("language", LANGUAGES)
def test_yes_and_no_answer_the_packaging_question(language: str) -> None:
    yes, no = YES_NO[language]
    bot = at_packaging_question(language)
    bot.says(yes)
    assert bot.said[-1] == "device_video/thanks_evidence", language
    bot = at_packaging_question(language)
    bot.says(no)
    assert bot.state == "awaiting_evidence" and bot.said[-1] != "common/not_understood", language
    bot = at_packaging_question(language)
    bot.says(labels(language)["packaging_missing"])
    assert bot.state == "awaiting_evidence" and bot.said[-1] != "common/not_understood", language


def test_a_buyer_who_will_retake_the_photo_gets_asked_for_it_again() -> None:
    bot = at_packaging_question("pt")
    bot.says("vou tirar outra foto")
    assert bot.state == "awaiting_evidence" and bot.said[-1] != "common/not_understood"


def at_how_did_it_go(language: str) -> Harness:
    bot = Harness()
    placed(bot, language)
    bot.event("order.paid")
    bot.event("order.shipped", carrier="X", tracking_number="T", tracking_url="https://t", eta_days=10)
    bot.event("order.delivered")
    bot.fire_all(3 * 24 * H)
    assert bot.said[-1] == "shipping/how_did_it_go"
    return bot


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_how_did_it_go_buttons_typed(language: str) -> None:
    for action, template in [("all_good", "shipping/happy"), ("problem", "shipping/what_is_wrong")]:
        bot = at_how_did_it_go(language)
        bot.says(labels(language)[action])
        assert bot.said[-1] == template, (language, labels(language)[action], bot.said[-1])


def test_two_close_readings_are_asked_back_with_two_buttons() -> None:
    bot = at_nudge("en")
    change = bot.says("still deciding, where is the parcel")
    question = change.outbox[0]
    assert question.template == "common/which_did_you_mean"
    assert sorted(b["action"] for b in question.buttons) == ["still_deciding", "where_is_order"]
    assert bot.conversation is not None and bot.conversation.misunderstandings == 0
    bot.presses("where_is_order")
    assert bot.said[-1] == "common/order_status"


def test_the_which_did_you_mean_buttons_can_be_typed_too() -> None:
    bot = at_nudge("en")
    bot.says("still deciding, where is the parcel")
    bot.says("the first one")
    assert bot.said[-1] == "unpaid/offer"  # still deciding: the discount offer
    assert bot.said[-2] == "common/which_did_you_mean"


ALTERNATIVES = [
    {"title": "Steel kettle", "url": "https://e.x/1", "price": 27},
    {"title": "Small kettle", "url": "https://e.x/2", "price": 26},
]


@pytest.mark.parametrize(
    ("language", "text"),
    [("en", "the small kettle please"), ("en", "2"), ("en", "the second one"), ("ru", "второй"),
     ("es", "el segundo"), ("pt", "o segundo"), ("fr", "le deuxième")],
)  # fmt: skip
def test_an_alternative_is_chosen_by_its_title_number_or_ordinal(language: str, text: str) -> None:
    bot = Harness()
    placed(bot, language)
    bot.event("order.paid")
    bot.event("item.out_of_stock", sku="S", alternatives=ALTERNATIVES)
    bot.says(text)
    assert bot.tasks[-1]["kind"] == "replace_item", (language, text, bot.said[-1])
    assert bot.tasks[-1]["alternative"]["title"] == "Small kettle"


def test_an_ordinal_inside_a_sentence_is_not_a_choice() -> None:
    bot = at_offer("en")
    bot.says("wait a second")
    assert bot.state == "offer_made"
