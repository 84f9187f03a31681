"""Evidence before a person: damaged goods are photographed first (item and
outer packaging), and a dispute goes to a person at once with what is there."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dialogs.intents import Intent, match_intent
from tests.dialogs.helpers import Harness

D = timedelta(days=1)


def delivered() -> Harness:
    bot = Harness()
    bot.placed(first_order=False)
    bot.event("order.paid")
    bot.event("order.delivered")
    bot.said.clear()
    return bot


def test_arrived_damaged_asks_for_photos_of_the_item_and_its_packaging_before_a_person() -> None:
    bot = delivered()
    change = bot.event("aftersales.opened", reason="damaged")
    assert [m.template for m in change.outbox] == ["device_video/ask_damage_photos"]
    assert bot.conversation is not None and bot.conversation.ownership == "bot"
    assert not any(t["kind"] == "handoff" for t in bot.tasks)
    bot.says("", media=[{"kind": "photo", "file_id": "pic-1"}])
    assert bot.said[-1] == "device_video/packaging_question"
    bot.presses("packaging_shown")
    assert bot.said[-1] == "device_video/thanks_evidence"
    bundle = next(t for t in bot.tasks if t["kind"] == "evidence_bundle")
    assert bundle["photos"] == ["pic-1"] and bundle["videos"] == [] and bundle["damaged"] is True
    assert bot.tasks[-1] == {**bot.tasks[-1], "kind": "handoff", "reason": "damage_evidence"}


def test_damage_photos_without_the_packaging_are_asked_for_again() -> None:
    bot = delivered()
    bot.event("aftersales.opened", reason="damaged")
    bot.says("", media=[{"kind": "photo", "file_id": "pic-1"}])
    change = bot.presses("packaging_missing")
    assert [m.template for m in change.outbox] == ["device_video/missing"]
    assert change.outbox[0].context["damaged"] is True and change.outbox[0].context["need_video"] is False


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("the screen arrived with a big scratch", "en"),
        ("the glass is cracked", "en"),
        ("пришло с трещиной на корпусе", "ru"),
        ("экран поцарапан", "ru"),
        ("llegó con un rayón en la tapa", "es"),
        ("la pantalla vino rajada", "es"),
        ("chegou com um arranhão na tela", "pt"),
        ("a tampa veio trincada", "pt"),
        ("l'écran est rayé", "fr"),
        ("le verre est fissuré", "fr"),
    ],
)
def test_a_scratch_or_a_crack_is_damage_not_a_device_that_does_not_work(text: str, language: str) -> None:
    assert match_intent(text, language).intent == Intent.DAMAGED_ITEM


def test_a_buyer_who_writes_it_arrived_cracked_is_asked_for_photos() -> None:
    bot = delivered()
    bot.says("it arrived cracked")
    assert bot.said == ["device_video/ask_damage_photos"]


def test_damaged_from_the_how_did_it_go_question_asks_for_photos() -> None:
    bot = delivered()
    bot.fire_all(3 * D)
    bot.presses("problem")
    bot.presses("damaged_item")
    assert bot.said[-1] == "device_video/ask_damage_photos"
    assert bot.conversation is not None and bot.conversation.ownership == "bot"


def test_a_dispute_while_evidence_is_awaited_goes_to_a_person_at_once_with_what_was_sent() -> None:
    bot = delivered()
    bot.event("aftersales.opened", reason="not_working")
    bot.says("", media=[{"kind": "video", "file_id": "vid-1"}])
    respond_by = bot.clock.current + 5 * D
    change = bot.event("dispute.opened", reason="not_working", respond_by=respond_by.isoformat())
    found = [t for t in change.tasks if t["kind"] != "answer_dispute"]  # the deadline task: test_guide_rules
    assert [t["kind"] for t in found] == ["evidence_bundle", "handoff"]
    assert found[0]["videos"] == ["vid-1"] and found[0]["complete"] is False
    assert found[1]["reason"] == "dispute"
    assert bot.conversation is not None and bot.conversation.ownership == "waiting"
    assert bot.timers == {}
