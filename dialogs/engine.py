"""The engine: one Inbound in, one Commit out. `decide` is pure (state, order
and inbound to new state, outbox and timers); `DialogEngine.handle` wraps it
with the per-conversation lock and the store."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

from dialogs.base import Dialog, Turn
from dialogs.calendar import advance_before_quiet_hours, postpone_for_quiet_hours
from dialogs.choices import remember_step_buttons
from dialogs.conversation import MAX_TEXT, react_to_agent, react_to_buyer
from dialogs.guide_rules import AFTERSALES_TRIGGERS, INTERNAL_TIMERS, answer_outside_window, protection_due
from dialogs.guide_rules import on_event as guide_rules_on_event
from dialogs.handoff import hand_off
from dialogs.held import RELEASE, hold, min_gap_due, release, why_not_now
from dialogs.model import (
    Cancel,
    Commit,
    Conversation,
    HandOff,
    Inbound,
    Order,
    OutboxMessage,
    Ownership,
    Say,
    Schedule,
    SellerTask,
    Timer,
    TranscriptEntry,
    parse_time,
    supported_language,
)
from dialogs.orders import apply_event, new_link_token, new_order, normalise_phone, trigger_for
from dialogs.policy import Policy
from dialogs.ports import Clock, Loaded, Store
from dialogs.understanding import prefetch

log = logging.getLogger(__name__)
#: `handle_many` lets the loop run others after this many decisions
DECIDE_SLICE = 4


def typed_texts(inbounds: Iterable[Inbound]) -> list[str]:
    """What buyers typed in `inbounds`, as the turn will read it."""
    return [str(i.payload.get("text") or "")[:MAX_TEXT] for i in inbounds if i.trigger == "buyer_message"]


def load_wanted(inbound: Inbound) -> tuple[str, str | None]:
    """What `load_many` must read for `inbound`: the timer that fired, if one did."""
    name = inbound.payload["timer"] if inbound.trigger == "follow_up_due" else None
    return inbound.conversation_id, name


class DialogEngine:
    def __init__(self, dialogs: Iterable[Dialog], policy: Policy, clock: Clock) -> None:
        self.dialogs = {d.name: d for d in dialogs}
        self.policy = policy
        self.clock = clock
        self._starters = {t: d for d in self.dialogs.values() for t in d.starts_on}

    async def handle(self, store: Store, inbound: Inbound) -> Commit | None:
        """Process one accepted Inbound under its conversation's lock."""
        await prefetch(typed_texts([inbound]))  # the model's opinion, off the loop and outside the lock
        async with store.load_locked([load_wanted(inbound)]) as taken:
            if taken:  # the lock was free: taken and loaded at once
                change = self._decide_loaded(inbound, taken[inbound.conversation_id])
                await store.commit(change)
                return change
        async with store.lock(inbound.conversation_id):  # wait for the holder
            (loaded,) = await store.load_many([load_wanted(inbound)])
            change = self._decide_loaded(inbound, loaded)
            await store.commit(change)
            return change

    async def handle_many(self, store: Store, inbounds: Sequence[Inbound]) -> list[Commit | Exception]:
        """`handle` for inbounds of DIFFERENT conversations, with one load and
        one commit (one transaction) for all whose locks are free; the others
        are handled one by one afterwards, waiting for their locks. Per
        inbound: its Commit, or the exception that stopped it (nothing of it
        committed)."""
        ids = [inbound.conversation_id for inbound in inbounds]
        if len(set(ids)) != len(ids):
            raise ValueError("handle_many takes one inbound per conversation")
        await prefetch(typed_texts(inbounds))
        results: dict[int, Commit | Exception] = {}
        async with store.load_locked([load_wanted(inbound) for inbound in inbounds]) as taken:
            batch = [(n, inbound) for n, inbound in enumerate(inbounds) if inbound.conversation_id in taken]
            if batch:
                changes: list[Commit] = []
                for k, (n, inbound) in enumerate(batch):
                    if k and k % DECIDE_SLICE == 0:
                        await asyncio.sleep(0)  # a long batch must not hold the loop
                    try:
                        change = self._decide_loaded(inbound, taken[inbound.conversation_id])
                    except Exception as exc:  # this one is retried; the others go on
                        log.exception("deciding %s failed", inbound.source_id)
                        results[n] = exc
                    else:
                        changes.append(change)
                        results[n] = change
                await store.commit_many(changes)
        for n, inbound in enumerate(inbounds):
            if n not in results:
                try:
                    alone = await self.handle(store, inbound)
                    assert alone is not None
                    results[n] = alone
                except Exception as exc:
                    results[n] = exc
        return [results[n] for n in range(len(inbounds))]

    def _decide_loaded(self, inbound: Inbound, loaded: Loaded) -> Commit:
        conversation, order, timer = loaded
        timer_current = True
        if inbound.trigger == "follow_up_due":
            timer_current = timer is not None and timer.due_at.isoformat() == inbound.payload["due_at"]
        was_placed = order is not None and order.placed_at is not None
        change = self.decide(conversation, order, inbound, timer_current=timer_current)
        # folded into the commit's transaction: the binding (most recent first)
        # and, when this turn placed the order, its link token (kept if it has one)
        conv = change.conversation
        change.bind = bool(conv.channel and conv.address)
        if not was_placed and change.order is not None and change.order.placed_at is not None:
            change.link_token = new_link_token()
        return change

    def decide(
        self,
        conversation: Conversation | None,
        order: Order | None,
        inbound: Inbound,
        *,
        timer_current: bool = True,
        now: datetime | None = None,
    ) -> Commit:
        """`now`: the instant to decide as of (default: the clock's now)."""
        now = self.clock.now() if now is None else now
        if order is None and inbound.trigger == "order_event":
            order = new_order(inbound.payload["order_id"])
        if conversation is None:
            conversation = Conversation(id=inbound.conversation_id, order_id=inbound.conversation_id)
        change = Commit(conversation=conversation, order=order, inbound_source_id=inbound.source_id)
        if order is None:
            log.warning("inbound %s for unknown conversation %s ignored", inbound.trigger, inbound.conversation_id)
            return change
        turn = Turn(conversation, order, inbound, self.policy, now)
        step_before = conversation.step
        if inbound.trigger == "order_event":
            self._on_event(turn, change)
        elif inbound.trigger == "follow_up_due":
            self._on_follow_up(turn, change, timer_current)
        elif inbound.trigger.startswith("agent_"):
            react_to_agent(self, turn, change)
        else:
            react_to_buyer(self, turn, change)
        remember_step_buttons(turn, step_before)
        self._materialise(turn, change)
        return change

    # -- dispatch -----------------------------------------------------------
    def fire(self, turn: Turn, trigger: str) -> bool:
        """Fire on the active dialog; start a dialog that starts on `trigger`."""
        conversation = turn.conversation
        if trigger in AFTERSALES_TRIGGERS and answer_outside_window(turn, trigger):
            return True  # after the after-sales window: an honest answer, the seller decides
        active = self.dialogs.get(conversation.dialog or "")
        fired = active.fire(turn, trigger) if active else False
        if active and fired and active.is_final(conversation.state):
            turn.cancel(*active.timers)
        starter = self._starters.get(trigger)
        finished = active is None or active.is_final(conversation.state)
        if starter is not None and starter is not active and (not fired or finished) and starter.may_start(turn):
            if active is not None:
                turn.cancel(*active.timers)
            conversation.dialog, conversation.state = starter.name, str(starter.initial)
            fired = starter.fire(turn, trigger)
        if fired:
            conversation.step += 1
        return fired

    def understands(self, conversation: Conversation, trigger: str) -> bool:
        """Whether `trigger` would move the active dialog or start one (guards aside)."""
        active = self.dialogs.get(conversation.dialog or "")
        state = str(conversation.state or (active.initial if active else ""))
        return (active is not None and active.accepts(state, trigger)) or trigger in self._starters

    def _on_event(self, turn: Turn, change: Commit) -> None:
        payload = turn.payload
        # a clock ahead of ours must not plan follow-ups from the future
        occurred = min(parse_time(payload.get("occurred_at")) or turn.now, turn.now)
        apply_event(turn.order, payload["type"], payload.get("data", {}), occurred)
        order, conversation = turn.order, turn.conversation
        change.transcript.append(TranscriptEntry(conversation.id, turn.now, "event", payload["type"]))
        if order.placed_at is None:
            return  # nothing to talk about before we know the buyer
        if payload["type"] == "order.placed":
            self._adopt_buyer(conversation, order)
        guide_rules_on_event(turn, payload["type"], occurred)
        fired = self.fire(turn, trigger_for(payload["type"]))
        if payload["type"] == "dispute.opened" and not fired:
            hand_off(turn, "dispute")  # answered within the platform's deadline: a person now
        elif payload["type"] == "order.placed" and self._high_value(order):
            hand_off(turn, "high_value", quietly=True)

    def _high_value(self, order: Order) -> bool:
        limit = self.policy.raw.get("handoff", {}).get("high_value")
        try:
            return limit is not None and float(order.total_amount) >= float(limit)
        except ValueError:
            return False

    def _adopt_buyer(self, conversation: Conversation, order: Order) -> None:
        conversation.language = supported_language(order.buyer.language) or conversation.language
        if conversation.channel is None and order.buyer.telegram_chat_id is not None:
            conversation.channel, conversation.address = "telegram", str(order.buyer.telegram_chat_id)
        elif conversation.channel is None and normalise_phone(order.buyer.whatsapp_phone):
            conversation.channel, conversation.address = "whatsapp", normalise_phone(order.buyer.whatsapp_phone)

    def _on_follow_up(self, turn: Turn, change: Commit, timer_current: bool) -> None:
        name = turn.payload["timer"]
        if not timer_current:
            log.info("stale follow-up %s of %s dropped", name, turn.conversation.id)
            return
        turn.cancel(name)
        if name == RELEASE:
            release(turn)
            return
        if name in INTERNAL_TIMERS:  # seller work: whoever owns the chat
            protection_due(turn)
            return
        if turn.conversation.ownership is not Ownership.BOT:
            # a timer armed before the hand-off committed: pause it like the others
            turn.conversation.memory.setdefault("paused_timers", {})[name] = 0.0
            return
        self.fire(turn, f"{name}_due")

    # -- intents to records -----------------------------------------------
    def _materialise(self, turn: Turn, change: Commit) -> None:
        conversation, inbound = turn.conversation, turn.inbound
        sending: set[int] = set()
        for say in [i for i in turn.intents if isinstance(i, Say)]:
            why = why_not_now(turn, say)
            if why is None:
                sending.add(id(say))
            else:  # held for the person who owns the chat, or for the buyer's morning
                hold(turn, change, say, why)
        # the gap is between follow-up steps (not after a reply or an event's news)
        step_said = bool(sending) and inbound.trigger == "follow_up_due"
        if step_said:
            conversation.memory["last_step_at"] = turn.now.isoformat()
        for intent in turn.intents:
            if isinstance(intent, Say):
                if id(intent) in sending:
                    change.outbox.append(self._message(turn, intent, len(change.outbox)))
            elif isinstance(intent, Schedule):
                due = self._due(turn, intent, step_said)
                change.timers_set = [t for t in change.timers_set if t.name != intent.name]
                change.timers_set.append(Timer(conversation.id, intent.name, due))
                if intent.name in change.timers_cancelled:
                    change.timers_cancelled.remove(intent.name)
            elif isinstance(intent, Cancel):
                change.timers_set = [t for t in change.timers_set if t.name != intent.name]
                if intent.name not in change.timers_cancelled:
                    change.timers_cancelled.append(intent.name)
            elif isinstance(intent, SellerTask):
                change.tasks.append(
                    {"kind": intent.kind, "conversation_id": conversation.id,
                     "at": turn.now.isoformat(), "source_id": inbound.source_id, **intent.details}
                )  # fmt: skip
            elif isinstance(intent, HandOff):
                change.tasks.append(
                    {"kind": "handoff", "reason": intent.reason, "conversation_id": conversation.id,
                     "at": turn.now.isoformat(), "source_id": inbound.source_id}
                )  # fmt: skip

        mirror: dict[str, str] = conversation.memory.setdefault("timers", {})
        for name in change.timers_cancelled:
            mirror.pop(name, None)
        mirror.update({t.name: t.due_at.isoformat() for t in change.timers_set})

    def _message(self, turn: Turn, say: Say, index: int) -> OutboxMessage:
        conversation = turn.conversation
        dialog = conversation.dialog or "common"
        return OutboxMessage(
            id=f"{turn.inbound.source_id}#{index}",
            conversation_id=conversation.id,
            template=say.template,
            context=say.context,
            buttons=[{"action": b.action, "url": b.url, "label": b.label, "dialog": dialog} for b in say.buttons],
            language=conversation.language,
            step=conversation.step,
            created_at=turn.now,
            channel=conversation.channel,
            address=conversation.address,
        )

    def _due(self, turn: Turn, schedule: Schedule, said_now: bool) -> datetime:
        """Internal work runs at any hour; a buyer message waits for the
        buyer's morning, or, when it must precede a deadline, moves earlier;
        an ordinary follow-up also keeps the policy's gap after the last message."""
        policy, tz = self.policy, turn.buyer_tz
        if schedule.internal:
            return schedule.due_at
        if schedule.urgent:
            return advance_before_quiet_hours(schedule.due_at, tz, policy.quiet_start, policy.quiet_end, turn.now)
        due = min_gap_due(turn, schedule.due_at, said_now)
        return postpone_for_quiet_hours(due, tz, policy.quiet_start, policy.quiet_end)
