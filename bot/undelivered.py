"""Messages that did not reach the buyer, made visible: a transcript note
("not sent: reason"), a log line, and the lists shown on the order and the
agents' card (held and failed outbox messages, and what the bot held back)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from dialogs.held import shown_to_agent
from dialogs.model import Conversation, OutboxMessage, OutboxStatus, TranscriptEntry

log = logging.getLogger("bot.undelivered")
NOT_DELIVERED = (OutboxStatus.HELD, OutboxStatus.FAILED)


def no_channel(message: OutboxMessage) -> str:
    if not message.channel or not message.address:
        return "no channel: the buyer has not opened a chat with the store on any channel"
    return f"the {message.channel} channel is not set up"


def not_sent_note(message: OutboxMessage, at: datetime) -> TranscriptEntry:
    """The transcript's line for a message the sender gave up on or holds, logged too."""
    log.warning(
        "message %s (%s) to %s not sent, %s: %s",
        message.id, message.template, message.conversation_id, message.status, message.error,
    )  # fmt: skip
    return TranscriptEntry(message.conversation_id, at, "note", f"not sent ({message.error}): {message.template}")


def undelivered(messages: list[OutboxMessage]) -> list[dict[str, Any]]:
    """Held and failed outbox messages, oldest first, for the order and the card."""
    return [
        {"id": m.id, "template": m.template, "status": str(m.status), "reason": m.error,
         "channel": m.channel, "created_at": m.created_at.isoformat()}
        for m in messages if m.status in NOT_DELIVERED
    ]  # fmt: skip


def held_back(conversation: Conversation) -> list[dict[str, Any]]:
    """What the bot decided but keeps for the hand-back or the buyer's morning."""
    return shown_to_agent(conversation.memory)
