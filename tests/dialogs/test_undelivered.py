"""A buyer the bot cannot reach: messages shown as not sent (never silently
dropped), and the journey ends in a seller task, not in "lost"."""

from __future__ import annotations

from datetime import timedelta

from tests.dialogs.helpers import Harness

D = timedelta(days=1)


def test_a_journey_the_buyer_never_saw_ends_in_a_buyer_not_reachable_task_not_lost() -> None:
    bot = Harness()
    bot.placed(first_order=False, chat=None)
    bot.fire_all(10 * D)
    kinds = [t["kind"] for t in bot.tasks]
    assert "order_lost" not in kinds and kinds.count("buyer_not_reachable") == 1
    assert bot.state == "unreachable"
    assert bot.timers == {}


def test_a_buyer_who_opened_the_chat_is_let_go_as_before() -> None:
    bot = Harness()
    bot.placed(first_order=False, chat=None)
    bot.send("buyer_bound", channel="webchat", address="s")
    bot.fire_all(10 * D)
    assert [t["kind"] for t in bot.tasks] == ["order_lost"]
    assert bot.state == "lost"
