"""Which updates of a store's own bot are BuyerBot's: `/start` with one of its
link tokens, its buttons, and messages of chats bound to an order while one of
its dialogs waits for an answer (or that the store handed over). The rest is
the store's. Chat modes set by the store's commands are kept in the store."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from aiogram.types import Message, Update

from bot.channels.telegram_intake import CHANNEL, start_argument
from bot.channels.telegram_send import CALLBACK_PREFIX
from dialogs.engine import DialogEngine
from dialogs.model import Conversation, OutboxMessage, Ownership
from dialogs.policy import Policy, parse_duration
from dialogs.ports import Clock, Store

#: the pseudo-channel whose bindings keep each chat's mode (newest first)
MODE_CHANNEL = "telegram-embedded-mode"
DEFAULT_ANSWER_WINDOW = timedelta(hours=24)


class ChatMode(StrEnum):
    #: BuyerBot takes what is plainly its own (the default)
    AUTO = "auto"
    #: the store handed the chat over: BuyerBot takes every message of it
    BUYERBOT = "buyerbot"
    #: the store took the chat back: BuyerBot takes only its links and buttons
    STORE = "store"


def answer_window(policy: Policy) -> timedelta:
    """`[embedding] answer_window`: how long after BuyerBot wrote a typed
    message still counts as an answer to it."""
    raw = policy.raw.get("embedding", {}).get("answer_window")
    return parse_duration(str(raw), "embedding.answer_window") if raw else DEFAULT_ANSWER_WINDOW


def spoke_last(conversation: Conversation, outbox: list[OutboxMessage], now: datetime, window: timedelta) -> bool:
    """BuyerBot wrote to the buyer after the buyer's last message, within `window`."""
    if not outbox:
        return False
    latest = max(message.created_at for message in outbox)
    if latest < now - window:
        return False
    replied = conversation.last_buyer_message_at
    return replied is None or latest >= replied


class UpdateClaims:
    """`owns(update)`: True when BuyerBot must take the update (the store's
    handlers never see it); False leaves it to the store untouched."""

    def __init__(self, store: Store, engine: DialogEngine, clock: Clock, policy: Policy, agent_chat_id: int = 0):
        self.store, self.engine, self.clock = store, engine, clock
        self.window = answer_window(policy)
        self.agent_chat_id = agent_chat_id

    async def owns(self, update: Update) -> bool:
        if update.callback_query is not None:
            query = update.callback_query
            message = query.message
            if message is not None and message.chat.type != "private":
                return bool(self.agent_chat_id) and message.chat.id == self.agent_chat_id
            return (query.data or "").startswith(CALLBACK_PREFIX)
        if update.message is not None:
            return await self._owns_message(update.message)
        return False

    async def _owns_message(self, message: Message) -> bool:
        if message.chat.type != "private":
            return bool(self.agent_chat_id) and message.chat.id == self.agent_chat_id
        token = start_argument(message.text or "")
        if token is not None:
            # "/start" alone, or with a payload of the store's own, stays the store's
            return 8 <= len(token) <= 64 and await self.store.order_for_token(token) is not None
        if (message.text or "").startswith("/"):
            return False  # the store's commands stay the store's, in every mode (its way to take a chat back)
        mode = await self.mode(message.chat.id)
        if mode is ChatMode.BUYERBOT:
            return True
        if mode is ChatMode.STORE:
            return False
        bound = await self.store.bound(CHANNEL, str(message.chat.id))
        if not bound:
            return False
        if await self._replies_to_buyerbot(message):
            return True
        return await self.waits_for_answer(bound[0])

    async def _replies_to_buyerbot(self, message: Message) -> bool:
        replied = message.reply_to_message
        if replied is None or replied.from_user is None or not replied.from_user.is_bot:
            return False
        sent = await self.store.find_outbox_by_channel_id(f"{message.chat.id}:{replied.message_id}")
        return sent is not None

    async def waits_for_answer(self, conversation_id: str) -> bool:
        """A person owns the chat, or the conversation's dialog is going and
        BuyerBot wrote last (within the answer window)."""
        conversation, _ = await self.store.load(conversation_id)
        if conversation is None:
            return False
        if conversation.ownership is not Ownership.BOT:
            return True
        dialog = self.engine.dialogs.get(conversation.dialog or "")
        if dialog is None or dialog.is_final(conversation.state):
            return False
        outbox = await self.store.outbox_for(conversation_id)
        return spoke_last(conversation, outbox, self.clock.now(), self.window)

    # -- chat modes ---------------------------------------------------------------------
    async def mode(self, chat_id: int) -> ChatMode:
        found = await self.store.bound(MODE_CHANNEL, str(chat_id))
        try:
            return ChatMode(found[0]) if found else ChatMode.AUTO
        except ValueError:
            return ChatMode.AUTO

    async def set_mode(self, chat_id: int, mode: ChatMode) -> None:
        await self.store.bind(MODE_CHANNEL, str(chat_id), str(mode))
