"""How the engine reacts to the buyer: typed text and buttons become
`answered_<intent>` triggers; what no dialog takes is asked again once, then
handed to a person."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dialogs.base import Turn
from dialogs.intents import match_intent, mentions_escalation_words
from dialogs.model import Commit, Ownership, TranscriptEntry

if TYPE_CHECKING:
    from dialogs.engine import DialogEngine

MAX_TEXT = 4096
#: intents every dialog step understands the same way
SMALL_TALK = {"thanks": "common/you_are_welcome", "greeting": "common/greeting"}


def react_to_buyer(engine: DialogEngine, turn: Turn, change: Commit) -> None:
    conversation, payload, trigger = turn.conversation, turn.payload, turn.inbound.trigger
    if payload.get("channel") and payload.get("address"):
        conversation.channel, conversation.address = payload["channel"], str(payload["address"])
        conversation.unreachable = False
    if trigger == "buyer_unreachable":
        conversation.unreachable = True
        change.transcript.append(TranscriptEntry(conversation.id, turn.now, "note", "buyer unreachable"))
        return
    if trigger == "buyer_bound":
        turn.say("common/welcome_bound", ["talk_to_person"])
        return
    conversation.buyer_replied = True
    conversation.last_buyer_message_at = turn.now
    text = str(payload.get("text") or "")[:MAX_TEXT]
    shown = text or f"[{payload.get('action') or payload.get('media_kind') or 'message'}]"
    change.transcript.append(TranscriptEntry(conversation.id, turn.now, "buyer", shown))
    if conversation.ownership is not Ownership.BOT:
        return  # a person owns the chat: the bot stays silent
    if trigger == "button_pressed":
        _on_button(engine, turn)
    elif trigger == "buyer_message":
        _on_text(engine, turn, text)


def _on_button(engine: DialogEngine, turn: Turn) -> None:
    action = str(turn.payload.get("action", ""))
    if action == "talk_to_person":
        hand_off(turn, "asked")
        return
    if turn.payload.get("dialog") != (turn.conversation.dialog or "common") or not engine.fire(
        turn, f"answered_{action}"
    ):
        turn.say("common/stale_button")
        return
    turn.conversation.misunderstandings = 0


def _on_text(engine: DialogEngine, turn: Turn, text: str) -> None:
    conversation = turn.conversation
    if not text.strip():
        return  # media without words: the dialogs that want media read the payload
    if mentions_escalation_words(text):
        hand_off(turn, "escalation_words")
        return
    intent = str(match_intent(text, conversation.language).intent)
    if intent == "talk_to_person":
        hand_off(turn, "asked")
        return
    if engine.fire(turn, f"answered_{intent}"):
        conversation.misunderstandings = 0
        return
    if intent in SMALL_TALK:
        turn.say(SMALL_TALK[intent])
        return
    conversation.misunderstandings += 1
    if conversation.misunderstandings >= 2:
        hand_off(turn, "misunderstood")
    else:
        turn.say("common/not_understood", ["talk_to_person"])


def hand_off(turn: Turn, reason: str) -> None:
    """Give the chat to a person; timers pause while they own it."""
    conversation = turn.conversation
    conversation.ownership = Ownership.WAITING
    conversation.misunderstandings = 0
    conversation.memory["handed_off_at"] = turn.now.isoformat()
    conversation.memory["handoff_reason"] = reason
    turn.say("common/handoff")
    turn.hand_off(reason)
