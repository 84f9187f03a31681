"""Messages the bot decided but must not send now: held while a person owns
the chat (the agent sees them), or kept for the buyer's morning. Released as
they were when one is left and still current, else folded into ONE short
status of what is still true, with the open question (and its buttons)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dialogs.base import Turn
from dialogs.calendar import in_quiet_hours, postpone_for_quiet_hours
from dialogs.model import Button, Commit, Ownership, Say, Schedule, TranscriptEntry
from dialogs.status import order_status

#: the follow-up that releases what waited for the buyer's morning
RELEASE = "held_release"
#: what the hand-off itself says: never held for the person (a night still delays it)
FOR_THE_BUYER_EVEN_WHEN_OWNED = frozenset({"common/handoff", "common/away", "common/agent_message"})
#: news the status message tells better than the message itself (not an open question)
NEWS = frozenset(
    {"unpaid/paid_thanks", "shipping/shipped", "shipping/at_customs", "shipping/delivered",
     "pickup/reminder", "pickup/last_reminder", "common/handoff"}
)  # fmt: skip
#: facts shown to the agent beside a held message ("would have sent: shipped, tracking ..."), by label
SHOWN_FACTS = {"carrier": "carrier", "tracking_number": "tracking", "office": "office", "deadline": "deadline",
               "eta": "expected", "missing_title": "sold out", "percent": "discount %"}  # fmt: skip
KEEP_AT_MOST = 20
BUYER_TRIGGERS = frozenset({"buyer_message", "button_pressed", "buyer_bound"})


def why_not_now(turn: Turn, say: Say) -> str | None:
    """ "person", "night" or None (send now) for a message decided this turn."""
    trigger, policy = turn.inbound.trigger, turn.policy
    if trigger in BUYER_TRIGGERS:
        return None  # an answer to the buyer's own message (an auto-reply while owned): they are awake
    if trigger.startswith("agent_") and say.template != "common/handoff":
        return None  # a person chose to write: their message goes
    if say.owned and say.template not in FOR_THE_BUYER_EVEN_WHEN_OWNED:
        return "person"
    if not in_quiet_hours(turn.now, turn.buyer_tz, policy.quiet_start, policy.quiet_end):
        return None
    if trigger == "order_event" and not policy.hold_event_messages:
        return None
    return "night"


def hold(turn: Turn, change: Commit, say: Say, why: str) -> None:
    """Keep `say` with the conversation and tell the agent (a transcript note)."""
    conversation = turn.conversation
    held: list[dict[str, Any]] = conversation.memory.setdefault("held", [])
    held.append(
        {"template": say.template, "context": say.context, "why": why, "at": turn.now.isoformat(),
         "buttons": [{"action": b.action, "url": b.url, "label": b.label} for b in say.buttons],
         "dialog": conversation.dialog, "step": conversation.step}
    )  # fmt: skip
    del held[:-KEEP_AT_MOST]
    facts = ", ".join(f"{label} {say.context[k]}" for k, label in SHOWN_FACTS.items() if say.context.get(k))
    where = "a person owns the chat" if why == "person" else "held for the buyer's morning"
    text = f"not sent ({where}): {say.template}" + (f" — {facts}" if facts else "")
    change.transcript.append(TranscriptEntry(conversation.id, turn.now, "note", text))
    if why == "night":
        policy = turn.policy
        morning = postpone_for_quiet_hours(turn.now, turn.buyer_tz, policy.quiet_start, policy.quiet_end)
        pending = conversation.memory.get("timers", {}).get(RELEASE)
        if pending is None or datetime.fromisoformat(pending) > morning:
            turn.intents.append(Schedule(RELEASE, morning, internal=True))


def shown_to_agent(conversation_memory: dict[str, Any]) -> list[dict[str, Any]]:
    """What the card shows: "would have sent" lines with the facts that matter."""
    return [
        {"template": h["template"], "name": h["template"].rsplit("/", 1)[-1].replace("_", " "),
         "at": h["at"], "why": h["why"],
         "facts": {label: h["context"][k] for k, label in SHOWN_FACTS.items() if h["context"].get(k)}}
        for h in conversation_memory.get("held", [])
    ]  # fmt: skip


def release(turn: Turn) -> None:
    """Send what was held, if it may go now: at the hand-back, at the buyer's
    morning, or when the buyer writes (they are awake)."""
    conversation, policy = turn.conversation, turn.policy
    held: list[dict[str, Any]] = conversation.memory.get("held", [])
    if not held:
        return
    if turn.inbound.trigger not in BUYER_TRIGGERS and in_quiet_hours(
        turn.now, turn.buyer_tz, policy.quiet_start, policy.quiet_end
    ):
        for entry in held:
            entry["why"] = "night"
        morning = postpone_for_quiet_hours(turn.now, turn.buyer_tz, policy.quiet_start, policy.quiet_end)
        turn.intents.append(Schedule(RELEASE, morning, internal=True))
        return
    if conversation.ownership is not Ownership.BOT:
        _release_hand_off_notice(turn, held)
        return
    conversation.memory.pop("held")
    turn.cancel(RELEASE)
    current = [h for h in held if h["dialog"] == conversation.dialog and h["step"] == conversation.step]
    if len(held) == 1 and current:
        turn.intents.append(_say(held[0], held[0]["context"]))
        return
    question = next((h for h in reversed(current) if h["template"] not in NEWS), None)
    why = "person" if any(h["why"] == "person" for h in held) else "night"
    context = {**(question["context"] if question else {}), **turn.base_context(), **order_status(turn)}
    context.update(why=why, pending=question["template"] if question else "")
    buttons = question["buttons"] if question else []
    turn.intents.append(_say({"template": "common/status_update", "buttons": buttons}, context))


def _release_hand_off_notice(turn: Turn, held: list[dict[str, Any]]) -> None:
    """Morning, and a person still owns the chat: only the hand-off notice goes
    (while nobody has answered yet); the rest waits for the hand-back."""
    notices = [h for h in held if h["template"] in FOR_THE_BUYER_EVEN_WHEN_OWNED]
    held[:] = [dict(h, why="person") for h in held if h not in notices]
    if not held:
        turn.conversation.memory.pop("held")
    if notices and turn.conversation.ownership is Ownership.WAITING:
        turn.intents.append(_say(notices[-1], notices[-1]["context"]))


def _say(entry: dict[str, Any], context: dict[str, Any]) -> Say:
    buttons = tuple(Button(b["action"], b.get("url"), b.get("label")) for b in entry.get("buttons", []))
    return Say(entry["template"], context, buttons)


def min_gap_due(turn: Turn, due: datetime, said_now: bool) -> datetime:
    """Two steps never collide: a follow-up keeps the policy's gap after the
    last follow-up step that reached the buyer (`said_now`: this turn's)."""
    last = turn.conversation.memory.get("last_step_at")
    since = turn.now if said_now else (datetime.fromisoformat(last) if last else None)
    gap: timedelta = turn.policy.min_gap
    return max(due, since + gap) if since is not None else due
