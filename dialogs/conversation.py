"""How the engine reacts to people: the buyer's typed text, media and buttons
become `answered_<intent>` / `evidence_sent` triggers; a typed answer that names one
of the step's buttons counts as pressing it (dialogs/choices.py); two close readings
are asked back with two buttons; what no dialog takes is asked again once (the
step's buttons still there), then handed to a person. Agents' actions come here too."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from dialogs.base import Turn
from dialogs.choices import ACTION_PHRASES, exact_choice, loose_choice, phrased_action, step_buttons
from dialogs.handoff import agent_claimed, buyer_wrote_while_waiting, hand_back, hand_off
from dialogs.held import release
from dialogs.intents import SMALL_TALK as CHAT_INTENTS
from dialogs.intents import Intent, detect_language, mentions_escalation_words
from dialogs.link_requests import answer_link, attempts_exceeded, is_link_action, moves_by_number, request_link
from dialogs.model import Button, Commit, Ownership, TranscriptEntry, supported_language
from dialogs.status import order_status
from dialogs.understanding import understand

if TYPE_CHECKING:
    from dialogs.engine import DialogEngine

MAX_TEXT = 4096
LINK = re.compile(r"https?://\S+", re.IGNORECASE)
#: intents every dialog step understands the same way
SMALL_TALK = {Intent.THANKS: "common/you_are_welcome", Intent.GREETING: "common/greeting"}
#: intents that only answer a question; they mean something only at a step that asked one
ANSWER_WORDS = frozenset({Intent.YES, Intent.NO, Intent.THANKS, Intent.GREETING, Intent.UNKNOWN})


def react_to_buyer(engine: DialogEngine, turn: Turn, change: Commit) -> None:
    conversation, payload, trigger = turn.conversation, turn.payload, turn.inbound.trigger
    if trigger == "binding_locked":
        attempts_exceeded(turn, change)
        return
    if moves_by_number(turn):  # never moved by the order-number path: asked for instead
        request_link(turn, change)
        return
    if payload.get("channel") and payload.get("address"):
        conversation.channel, conversation.address = payload["channel"], str(payload["address"])
        conversation.unreachable = False
    if trigger == "button_pressed" and is_link_action(str(payload.get("action", ""))):
        answer_link(turn, change, str(payload["action"]), "buyer")
        return
    if trigger == "buyer_unreachable":
        conversation.unreachable = True
        change.transcript.append(TranscriptEntry(conversation.id, turn.now, "note", "buyer unreachable"))
        return
    if trigger == "buyer_bound":
        welcomed = conversation.memory.setdefault("welcomed_on", [])
        # a second device opening the same link sees the history, not a second welcome
        if conversation.ownership is Ownership.BOT and conversation.channel not in welcomed:
            welcomed.append(conversation.channel)
            turn.say("common/welcome_bound", ["talk_to_person"])
        return
    conversation.buyer_replied = True
    conversation.last_buyer_message_at = turn.now
    text = str(payload.get("text") or "")[:MAX_TEXT]
    _choose_language(turn, text)
    media = payload.get("media") or []
    change.transcript.append(_buyer_entry(turn, text, media))
    if conversation.ownership is not Ownership.BOT:
        buyer_wrote_while_waiting(turn)  # a person owns the chat: the bot stays quiet
        return
    release(turn)  # what waited for the buyer's morning: they are awake
    if trigger == "button_pressed":
        _on_button(engine, turn)
    elif trigger == "buyer_message":
        _on_text(engine, turn, text, media)


def _buyer_entry(turn: Turn, text: str, media: list[dict[str, Any]]) -> TranscriptEntry:
    """What the buyer did, as people read it: a press by its label (the door
    gives it, in the buyer's language), files by their kind."""
    payload, pressed = turn.payload, ""
    if turn.inbound.trigger == "button_pressed":
        pressed = f"{payload.get('action', '')}:{payload.get('dialog', '')}"
        shown = str(payload.get("label") or f"[{payload.get('action')}]")
    else:
        shown = text or f"[{', '.join(str(m.get('kind', '?')) for m in media) or 'message'}]"
    keep = ("kind", "file_id", "mime_type")
    files = tuple({str(k): m[k] for k in keep if k in m} for m in media if m.get("file_id"))
    return TranscriptEntry(turn.conversation.id, turn.now, "buyer", shown, media=files, pressed=pressed)


def _choose_language(turn: Turn, text: str) -> None:
    """The order's buyer language wins; else the channel's, else the text's."""
    if supported_language(turn.order.buyer.language):
        return
    memory = turn.conversation.memory
    from_channel = supported_language(turn.payload.get("language_code"))
    if from_channel and memory.get("language_from") != "text":
        turn.conversation.language, memory["language_from"] = from_channel, "channel"
    elif memory.get("language_from") is None:
        detected = supported_language(detect_language(text)) if text else None
        if detected:
            turn.conversation.language, memory["language_from"] = detected, "text"


def _on_button(engine: DialogEngine, turn: Turn) -> None:
    action = str(turn.payload.get("action", ""))
    if action == "talk_to_person":
        hand_off(turn, "asked")
    elif turn.payload.get("dialog") != (turn.conversation.dialog or "common"):
        turn.say("common/stale_button")
    elif engine.fire(turn, f"answered_{action}"):
        turn.conversation.misunderstandings = 0
    elif action == Intent.WHERE_IS_ORDER:  # a "which did you mean" button
        turn.say("common/order_status", **order_status(turn))
    else:
        turn.say("common/stale_button")


def _on_text(engine: DialogEngine, turn: Turn, text: str, media: list[dict[str, str]]) -> None:
    conversation = turn.conversation
    if (media or LINK.search(text)) and engine.fire(turn, "evidence_sent"):
        conversation.misunderstandings = 0
        return
    if not text.strip():
        if media:
            turn.say("common/media_received")
        return
    if mentions_escalation_words(text):
        hand_off(turn, "escalation_words")
        return
    buttons = step_buttons(turn)
    if (action := exact_choice(text, conversation.language, buttons)) is not None:
        _choose(engine, turn, action)
        return
    match = understand(text, conversation.language)
    if match.intent is Intent.TALK_TO_PERSON:
        hand_off(turn, "asked")
        return
    if match.intent not in ANSWER_WORDS:
        options = [i for i in (match.intent, match.alternative) if i is not None and _understood(engine, turn, i)]
        if len(options) == 2:  # two close readings: the buyer picks, we don't guess
            turn.say("common/which_did_you_mean", [str(i) for i in options])
            return
        if options:
            _answer_intent(engine, turn, options[0])
            return
    if (action := loose_choice(text, conversation.language, match, buttons)) is not None:
        _choose(engine, turn, action)
        return
    if match.intent not in CHAT_INTENTS and not _understood(engine, turn, match.intent):
        # an action the step takes with no button for it shown ("I want to return it")
        takes = [a for a in ACTION_PHRASES if engine.understands(conversation, f"answered_{a}")]
        if (action := phrased_action(text, conversation.language, takes)) is not None:
            _choose(engine, turn, action)
            return
    _answer_intent(engine, turn, match.intent)


def _understood(engine: DialogEngine, turn: Turn, intent: Intent) -> bool:
    return intent is Intent.WHERE_IS_ORDER or engine.understands(turn.conversation, f"answered_{intent}")


def _choose(engine: DialogEngine, turn: Turn, action: str) -> None:
    """A typed answer that names one of the step's buttons: as if the buyer pressed it."""
    if action == "talk_to_person":
        hand_off(turn, "asked")
    elif engine.fire(turn, f"answered_{action}"):
        turn.conversation.misunderstandings = 0
    elif action in Intent.__members__.values():
        _answer_intent(engine, turn, Intent(action))
    else:
        _not_understood(turn)


def _answer_intent(engine: DialogEngine, turn: Turn, intent: Intent) -> None:
    if engine.fire(turn, f"answered_{intent}"):
        turn.conversation.misunderstandings = 0
    elif intent is Intent.WHERE_IS_ORDER:
        turn.say("common/order_status", **order_status(turn))
    elif intent in SMALL_TALK:
        turn.say(SMALL_TALK[intent])
    else:
        _not_understood(turn)


def _not_understood(turn: Turn) -> None:
    """Asked again once, with the step's buttons still there; the second time, a person."""
    conversation = turn.conversation
    conversation.misunderstandings += 1
    if conversation.misunderstandings >= 2:
        hand_off(turn, "misunderstood")
        return
    shown = [Button(b["action"], label=b.get("label")) for b in step_buttons(turn) if b["action"] != "talk_to_person"]
    turn.say("common/not_understood", [*shown, Button("talk_to_person")])


def react_to_agent(engine: DialogEngine, turn: Turn, change: Commit) -> None:
    """Agents act through their door; the engine keeps ownership straight."""
    conversation, payload, trigger = turn.conversation, turn.payload, turn.inbound.trigger
    agent = str(payload.get("agent", "agent"))
    if trigger == "agent_note":
        change.transcript.append(TranscriptEntry(conversation.id, turn.now, "note", str(payload.get("text", ""))))
    elif trigger == "agent_claimed":
        if conversation.ownership is Ownership.BOT:
            hand_off(turn, "agent_took_over", quietly=True)
        agent_claimed(turn, agent)
    elif trigger == "agent_replied":
        if conversation.ownership is Ownership.BOT:
            hand_off(turn, "agent_took_over", quietly=True)
        if conversation.ownership is Ownership.WAITING:
            agent_claimed(turn, agent)
        turn.say("common/agent_message", text=str(payload.get("text", ""))[:MAX_TEXT], author="agent",
                  agent_name=agent)  # fmt: skip
    elif trigger == "agent_handed_back" and conversation.ownership is not Ownership.BOT:
        hand_back(turn)
        change.transcript.append(TranscriptEntry(conversation.id, turn.now, "note", f"handed back by {agent}"))
    elif trigger == "agent_offered":
        engine.fire(turn, "agent_offered")
    elif trigger == "agent_answered_link" and is_link_action(str(payload.get("action", ""))):
        answer_link(turn, change, str(payload["action"]), agent)
