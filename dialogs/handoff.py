"""Hand-off to a person and back. While a person owns the chat the bot sends
nothing automatic and the conversation's timers are paused with what was left
of them; the hand-back re-arms them from now and resumes the same step."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dialogs.base import Turn
from dialogs.calendar import WorkingHours, local_time_text
from dialogs.guide_rules import INTERNAL_TIMERS
from dialogs.held import RELEASE, release
from dialogs.model import Cancel, Ownership, Schedule


def working_hours(turn: Turn) -> WorkingHours:
    policy = turn.policy
    return WorkingHours(
        tz=policy.store_timezone,
        days=policy.working_days,
        opens=policy.opens,
        closes=policy.closes,
        holiday_country=policy.holiday_country,
    )


def hand_off(turn: Turn, reason: str, *, quietly: bool = False) -> None:
    """Give the chat to a person: pause timers, tell the buyer honestly when."""
    conversation = turn.conversation
    if conversation.ownership is not Ownership.BOT:
        return
    conversation.ownership = Ownership.WAITING
    conversation.misunderstandings = 0
    conversation.memory["handed_off_at"] = turn.now.isoformat()
    conversation.memory["handoff_reason"] = reason
    pause_timers(turn)
    if not quietly:
        turn.say("common/handoff", **_availability(turn))
    turn.hand_off(reason)


def _availability(turn: Turn) -> dict[str, Any]:
    """Open now, or when the team is back, in the buyer's own time."""
    period = working_hours(turn).current_off_period(turn.now)
    if period is None:
        return {"team_away": False, "back_at": ""}
    return {"team_away": True, "back_at": _back_at(turn, period)}


def buyer_wrote_while_waiting(turn: Turn) -> None:
    """One honest auto-reply per off-period, never on top of a bot answer;
    while the team works, once per hand-off: a person answers today."""
    if turn.conversation.ownership is not Ownership.WAITING:
        return
    hours = working_hours(turn)
    period = hours.current_off_period(turn.now)
    if period is None:
        memory = turn.conversation.memory
        if memory.get("told_person_soon") != memory.get("handed_off_at"):
            memory["told_person_soon"] = memory.get("handed_off_at")
            window = hours.window(turn.now.astimezone(hours.tz).date())
            until = local_time_text(window[1], turn.buyer_tz, turn.conversation.language) if window else ""
            turn.say("common/person_soon", until=until)
        return
    if turn.conversation.memory.get("auto_reply_period") == period[0].isoformat():
        return
    turn.say("common/away", back_at=_back_at(turn, period))


def _back_at(turn: Turn, period: tuple[datetime, datetime]) -> str:
    """The end of this off-period in the buyer's own words; marks the period as
    answered, so the buyer hears it once."""
    turn.conversation.memory["auto_reply_period"] = period[0].isoformat()
    return local_time_text(period[1], turn.buyer_tz, turn.conversation.language, turn.order.buyer.country)


def pause_timers(turn: Turn) -> None:
    memory = turn.conversation.memory
    pending: dict[str, str] = dict(memory.get("timers", {}))
    for intent in turn.intents:  # this very turn may have armed or cancelled some
        if isinstance(intent, Schedule):
            pending[intent.name] = intent.due_at.isoformat()
        elif isinstance(intent, Cancel):
            pending.pop(intent.name, None)
    pending.pop(RELEASE, None)  # the morning's release is not the dialog's: it decides itself
    for name in INTERNAL_TIMERS:  # seller work goes on while a person has the chat
        pending.pop(name, None)
    paused = memory.setdefault("paused_timers", {})
    for name, due in pending.items():
        left = max((datetime.fromisoformat(due) - turn.now).total_seconds(), 0.0)
        paused[name] = left
    turn.intents.extend(Cancel(name) for name in pending)  # not turn.cancel: that unpauses


def hand_back(turn: Turn) -> None:
    """The agent is done: the same step goes on, its timers re-planned from
    now; nothing is sent (no survey, no restart)."""
    conversation = turn.conversation
    conversation.ownership = Ownership.BOT
    conversation.misunderstandings = 0
    for key in ("handed_off_at", "handoff_reason", "agent", "auto_reply_period", "told_person_soon"):
        conversation.memory.pop(key, None)
    paused: dict[str, float] = conversation.memory.pop("paused_timers", {})
    for name, seconds in paused.items():
        turn.schedule(name, turn.now + timedelta(seconds=seconds))
    release(turn)


def agent_claimed(turn: Turn, agent: str) -> None:
    turn.conversation.ownership = Ownership.AGENT
    turn.conversation.memory["agent"] = agent
