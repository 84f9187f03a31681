"""Every path of every dialog ends. Walks every state each machine can reach
on the virtual clock (every answer, event, media and follow-up a step takes,
and a hand-off to a person and back) and fails on a state that could wait
forever: not an end of its dialog, no follow-up pending, no person owning it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from dialogs.catalog import all_dialogs
from dialogs.model import Conversation, Order, Ownership, Timer
from tests.dialogs.helpers import Harness

MAX_DEPTH = 9
DAY = timedelta(days=1)
ALTERNATIVES = [{"title": "Other lamp", "url": "https://e.x/1", "price": 20}]
#: the data of the events a step may wait for
EVENTS: dict[str, dict[str, Any]] = {
    "order_paid": {},
    "order_cancelled": {"reason": "buyer"},
    "order_shipped": {"carrier": "Cainiao", "tracking_number": "LP1", "tracking_url": "", "eta_days": 14},
    "order_at_customs": {},
    "order_awaiting_pickup": {"office": "Post office 5"},
    "order_delivered": {},
    "item_out_of_stock": {"sku": "S", "alternatives": ALTERNATIVES},
    "dispute_opened": {"reason": "not_working"},
}
MEDIA = [
    {"media": [{"kind": "photo", "file_id": "p"}]},
    {"media": [{"kind": "video", "file_id": "v"}]},
    {"text": "https://youtu.be/abc"},
    {"text": "https://example.com/not-a-video"},
]


@dataclass(frozen=True)
class Snapshot:
    conversation: dict[str, Any]
    order: dict[str, Any]
    timers: tuple[Timer, ...]
    now: datetime

    @classmethod
    def of(cls, bot: Harness) -> Snapshot:
        assert bot.conversation is not None and bot.order is not None
        return cls(bot.conversation.to_dict(), bot.order.to_dict(), tuple(bot.timers.values()), bot.clock.current)

    def restore(self, bot: Harness) -> None:
        bot.conversation = Conversation.from_dict(dict(self.conversation, memory=_copy(self.conversation["memory"])))
        bot.order = Order.from_dict(_copy(self.order))
        bot.timers = {t.name: t for t in self.timers}
        bot.clock.current = self.now

    def key(self) -> tuple[Any, ...]:
        conv, memory = self.conversation, self.conversation["memory"]
        evidence = memory.get("evidence") or {}
        return (
            conv["dialog"], conv["state"], conv["ownership"], conv["buyer_replied"], self.order["status"],
            tuple(sorted(t.name for t in self.timers)), memory.get("evidence_for"), "offer_made_at" in memory,
            bool(evidence.get("photos")), bool(evidence.get("videos")), bool(evidence.get("packaging")),
        )  # fmt: skip


def _copy(value: Any) -> Any:
    import copy

    return copy.deepcopy(value)


def moves(bot: Harness) -> list[tuple[str, Callable[[Harness], Any]]]:
    """Everything that may happen next at this state of the conversation."""
    assert bot.conversation is not None
    dialog = next(d for d in all_dialogs() if d.name == bot.conversation.dialog)
    found: list[tuple[str, Callable[[Harness], Any]]] = []
    for trigger in dialog.machine.events:
        if trigger.startswith("answered_"):
            action = trigger.removeprefix("answered_")
            found.append((trigger, lambda b, a=action: b.presses(a)))
        elif trigger in EVENTS:
            kind = trigger.replace("_", ".", 1) if not trigger.startswith("item_") else "item.out_of_stock"
            found.append((trigger, lambda b, k=kind, d=EVENTS[trigger]: b.event(k, **d)))
        elif trigger == "evidence_sent":
            found += [(f"evidence {m}", lambda b, m=m: b.says(m.get("text", ""), media=m.get("media"))) for m in MEDIA]
        elif trigger == "agent_offered":
            found.append((trigger, lambda b: b.send("agent_offered", agent="maria", percent=5)))
    for name in list(bot.timers):
        found.append((f"{name} fires", lambda b, n=name: b.fire(n)))
    found.append(("a person and back", _person_and_back))
    found.append(("small talk", lambda b: b.says("thanks!")))
    return found


def _person_and_back(bot: Harness) -> None:
    bot.presses("talk_to_person")
    bot.send("agent_handed_back", agent="maria")


def paid(bot: Harness) -> None:
    bot.placed(first_order=False)
    bot.event("order.paid")


def delivered(bot: Harness) -> None:
    paid(bot)
    bot.event("order.delivered")


STARTS: dict[str, list[Callable[[Harness], Any]]] = {
    "unpaid": [lambda b: b.placed(first_order=True), lambda b: b.placed(first_order=False),
               lambda b: b.placed(first_order=False, chat=None)],
    "out_of_stock": [lambda b: (paid(b), b.event("item.out_of_stock", sku="S", alternatives=ALTERNATIVES)),
                     lambda b: (paid(b), b.event("item.out_of_stock", sku="S", alternatives=[]))],
    "device_video": [lambda b: (delivered(b), b.event("aftersales.opened", reason="not_working")),
                     lambda b: (delivered(b), b.event("aftersales.opened", reason="damaged")),
                     lambda b: (delivered(b), b.says("it does not work"))],
    "pickup": [lambda b: (paid(b), b.event("order.awaiting_pickup", office="Post office 5")),
               lambda b: (paid(b), b.event("order.awaiting_pickup", office="Post office 5",
                                           pickup_deadline=(b.clock.current.date().isoformat())))],
    "shipping": [lambda b: (paid(b), b.event("order.shipped", **EVENTS["order_shipped"])),
                 lambda b: (paid(b), b.event("order.delivered")),
                 lambda b: (paid(b), b.event("feedback.left", stars=2, text="meh"))],
}  # fmt: skip


def dead_end(bot: Harness) -> str | None:
    conversation = bot.conversation
    assert conversation is not None
    dialog = next(d for d in all_dialogs() if d.name == conversation.dialog)
    if conversation.state in dialog.final | dialog.outcomes:
        return None
    if conversation.ownership is not Ownership.BOT or bot.timers:
        return None  # a person owns it (the agents' queue has a deadline), or a follow-up will come
    return f"{dialog.name}.{conversation.state}"


def walk(dialog: str) -> dict[str, list[str]]:
    """Every reachable configuration of `dialog`; the dead ends with the path to each."""
    found: dict[str, list[str]] = {}
    for n, start in enumerate(STARTS[dialog]):
        bot = Harness()
        start(bot)
        frontier = [(Snapshot.of(bot), [f"start {n}"])]
        seen = {frontier[0][0].key()}
        while frontier:
            snapshot, path = frontier.pop()
            snapshot.restore(bot)
            if (where := dead_end(bot)) is not None:
                found.setdefault(where, path)
            if len(path) > MAX_DEPTH or bot.conversation is None or bot.conversation.dialog != dialog:
                continue
            for label, move in moves(bot):
                snapshot.restore(bot)
                move(bot)
                after = Snapshot.of(bot)
                if after.key() not in seen:
                    seen.add(after.key())
                    frontier.append((after, [*path, label]))
    return found


@pytest.mark.parametrize("dialog", sorted(STARTS))
def test_every_state_of_the_dialog_has_a_way_out(dialog: str) -> None:
    assert walk(dialog) == {}


def test_every_dialog_is_walked() -> None:
    assert sorted(STARTS) == sorted(d.name for d in all_dialogs())


def test_the_walk_finds_a_dead_end_when_there_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from dialogs.unpaid import UnpaidModel

    monkeypatch.setattr(UnpaidModel, "plan_reminder", lambda self: None)  # yesterday's journey
    monkeypatch.setattr(UnpaidModel, "plan_first_follow_up", _old_first_follow_up)
    assert "unpaid.nudged" in walk("unpaid")


def _old_first_follow_up(self: Any) -> None:
    unpaid = self.turn.policy.unpaid
    placed = self.turn.order.placed_at or self.turn.now
    first = ("payment_help", unpaid.payment_help_after) if self.first_order() else ("nudge", unpaid.nudge_after)
    self.turn.schedule(first[0], placed + first[1])


def test_pickup_reminders_without_a_deadline_end_after_the_usual_holding_period() -> None:
    bot = Harness()
    paid(bot)
    bot.event("order.awaiting_pickup", office="Post office 5")
    said = bot.fire_all(30 * DAY)
    assert said[-1] == "pickup/last_reminder" and said.count("pickup/reminder") == 4
    assert bot.state == "deadline_passed" and bot.tasks[-1]["reason"] == "pickup_deadline_passed"


def test_told_how_to_cancel_and_no_cancellation_came_a_person_follows_up() -> None:
    bot = Harness()
    paid(bot)
    bot.event("item.out_of_stock", sku="S", alternatives=ALTERNATIVES)
    bot.presses("cancel_order")
    bot.fire_all(3 * DAY)
    assert bot.tasks[-1]["reason"] == "out_of_stock_not_cancelled"


def test_a_how_did_it_go_without_an_answer_closes_and_an_undescribed_problem_goes_to_a_person() -> None:
    quiet, vague = Harness(), Harness()
    for bot in (quiet, vague):
        delivered(bot)
        bot.fire("check")
    quiet.fire_all(8 * DAY)
    assert quiet.state == "closed" and quiet.timers == {}
    vague.presses("problem")
    vague.fire_all(2 * DAY)
    assert vague.tasks[-1]["reason"] == "problem_not_described"
