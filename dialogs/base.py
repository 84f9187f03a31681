"""What every dialog is made of: one `transitions` machine declared as data,
a model restored at the conversation's state for each turn, and the Turn that
callbacks read from and append intents to. No I/O here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from babel import Locale
from transitions import Machine

from dialogs.calendar import buyer_timezone
from dialogs.locale_text import buyer_locale, money
from dialogs.model import (
    Button,
    Cancel,
    Conversation,
    HandOff,
    Inbound,
    Order,
    Outbound,
    Ownership,
    Say,
    Schedule,
    SellerTask,
)
from dialogs.policy import Policy


@dataclass
class Turn:
    """One handled Inbound: the facts a dialog reads and the intents it adds."""

    conversation: Conversation
    order: Order
    inbound: Inbound
    policy: Policy
    now: datetime
    intents: list[Outbound] = field(default_factory=list)

    @property
    def payload(self) -> dict[str, Any]:
        return self.inbound.payload

    @property
    def buyer_tz(self) -> ZoneInfo:
        """The buyer's own time zone (explicit, else from the order's country)."""
        return buyer_timezone(self.order.buyer.country, self.order.buyer.timezone)

    @property
    def owned(self) -> bool:
        """A person owns the chat: nothing automatic goes out, timers wait."""
        return self.conversation.ownership is not Ownership.BOT

    @property
    def locale(self) -> Locale:
        """The buyer's locale for amounts, numbers and dates (language + country)."""
        return buyer_locale(self.conversation.language, self.order.buyer.country)

    def money(self, amount: object) -> str:
        """An amount of the order's currency as the buyer's locale writes it."""
        return money(amount, self.order.currency, self.locale)

    def say(self, template: str, buttons: Sequence[Button | str] = (), **context: Any) -> None:
        made = tuple(b if isinstance(b, Button) else Button(action=b) for b in buttons)
        self.intents.append(Say(template, {**self.base_context(), **context}, made, self.owned))

    def schedule(self, name: str, due_at: datetime, *, urgent: bool = False, internal: bool = False) -> None:
        if self.owned:  # paused with the others until the hand-back
            left = max((due_at - self.now).total_seconds(), 0.0)
            self.conversation.memory.setdefault("paused_timers", {})[name] = left
            return
        self.intents.append(Schedule(name, due_at, urgent, internal))

    def schedule_in(self, name: str, delay: timedelta, *, urgent: bool = False, internal: bool = False) -> None:
        self.schedule(name, self.now + delay, urgent=urgent, internal=internal)

    def cancel(self, *names: str) -> None:
        paused = self.conversation.memory.get("paused_timers", {})
        for name in names:
            paused.pop(name, None)
        self.intents.extend(Cancel(name) for name in names)

    def hand_off(self, reason: str) -> None:
        self.intents.append(HandOff(reason))

    def task(self, kind: str, **details: Any) -> None:
        self.intents.append(SellerTask(kind, details))

    def base_context(self) -> dict[str, Any]:
        order = self.order
        first = order.items[0] if order.items else None
        return {
            "buyer_name": order.buyer.name,
            "order_id": order.order_id,
            "item_title": first.title if first else "",
            "item_url": first.url if first else "",
            "total": self.money(order.total_amount),
            "currency": order.currency,
        }


class DialogModel:
    """The object a machine moves; subclasses hold a dialog's callbacks."""

    state: str

    def __init__(self, turn: Turn) -> None:
        self.turn = turn

    # every dialog may ask these
    def order_unpaid(self) -> bool:
        return self.turn.order.status == "placed"

    def buyer_silent(self) -> bool:
        return not self.turn.conversation.buyer_replied


class Dialog:
    """A dialog: states, a transitions table and the model class with callbacks."""

    name: ClassVar[str]
    states: ClassVar[type[StrEnum]]
    initial: ClassVar[str]
    final: ClassVar[frozenset[str]]
    #: states where the dialog's work is done (a late event may still move it):
    #: with `final`, the ends every path must reach (tests/dialogs/test_dead_ends.py)
    outcomes: ClassVar[frozenset[str]] = frozenset()
    transitions: ClassVar[list[dict[str, Any]]]
    model: ClassVar[type[DialogModel]]
    #: triggers that (re)start this dialog when it is not the active one
    starts_on: ClassVar[tuple[str, ...]] = ()
    #: follow-up names this dialog arms; all are cancelled when it ends
    timers: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self.machine = Machine(
            model=None,
            states=[str(s) for s in self.states],
            transitions=[_plain(t) for t in self.transitions],
            initial=str(self.initial),
            auto_transitions=False,
            ignore_invalid_triggers=True,
        )
        #: one model bound to the machine for good, re-pointed at each turn
        #: (`add_model`/`remove_model` per turn cost more than the transition)
        self._bound: DialogModel | None = None
        self._firing = False

    def fire(self, turn: Turn, trigger: str) -> bool:
        """Fire `trigger` at the conversation's state; True when a transition ran."""
        state = str(turn.conversation.state or self.initial)
        if not self.accepts(state, trigger):
            return False
        if self._firing:  # re-entered from a callback: a model of its own
            return self._fire_once(turn, trigger, state)
        model = self._bound
        if model is None:
            model = self._bound = self.model(turn)
            self.machine.add_model(model, initial=state)
        else:
            model.turn = turn
            self.machine.set_state(state, model=model)
        self._firing = True
        try:
            return self._trigger(model, turn, trigger)
        finally:
            self._firing = False

    def _fire_once(self, turn: Turn, trigger: str, state: str) -> bool:
        model = self.model(turn)
        self.machine.add_model(model, initial=state)
        try:
            return self._trigger(model, turn, trigger)
        finally:
            self.machine.remove_model(model)

    def _trigger(self, model: DialogModel, turn: Turn, trigger: str) -> bool:
        fired = bool(self.machine.events[trigger].trigger(model))
        if fired:
            turn.conversation.state = model.state
        return fired

    def may_start(self, turn: Turn) -> bool:
        """Whether this dialog should take over the conversation now."""
        return True

    def accepts(self, state: str, trigger: str) -> bool:
        event = self.machine.events.get(trigger)
        return event is not None and bool(event.transitions.get(state))

    def is_final(self, state: str | None) -> bool:
        return state in self.final

    def mermaid(self) -> str:
        """The state diagram, drawn from the machine's own table."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}"]
        for trigger, event in self.machine.events.items():
            for source, transitions in event.transitions.items():
                for transition in transitions:
                    dest = transition.dest or source
                    guard = ",".join(str(c.func) for c in transition.conditions)
                    label = f"{trigger} [{guard}]" if guard else trigger
                    lines.append(f"    {source} --> {dest}: {label}")
        lines.extend(f"    {state} --> [*]" for state in sorted(self.final | self.outcomes))
        return "\n".join(lines)


def _plain(transition: dict[str, Any]) -> dict[str, Any]:
    """StrEnum states as their plain values (transitions names Enums by .name)."""

    def plain(value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return str(value) if isinstance(value, StrEnum) else value

    return {k: plain(v) if k in ("source", "dest") else v for k, v in transition.items()}
