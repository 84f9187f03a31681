"""Telegram updates to Inbounds: buyer text and media, button presses, deep-link
and order-number binding. It translates only; the engine decides what to say."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiogram import Bot
from aiogram.types import CallbackQuery, Message, Update, User

from bot.channels.number_binding import BindingLimits, NumberBinding
from bot.channels.telegram_send import CALLBACK_PREFIX, DirectReplies
from bot.rendering import Renderer, parse_callback
from bot.runtime import Runtime
from bot.storage.guard import GuardStore
from dialogs.model import Inbound

log = logging.getLogger(__name__)
CHANNEL = "telegram"
SEEN_LIMIT = 10_000
_LINK = re.compile(r"https?://\S+")
#: when a template cannot be rendered, an answer still has to go out
FALLBACK_TEXT = "Please open the link from your order message, or send me your order number."


def start_argument(text: str) -> str | None:
    """The deep-link payload of "/start <token>" ("" without one); None for other texts."""
    command, _, rest = text.strip().partition(" ")
    if command != "/start" and not command.startswith("/start@"):
        return None
    return rest.strip()


def pressed_label(query: CallbackQuery) -> str:
    """The text of the pressed button, as the buyer saw it (in their language)."""
    message = query.message
    markup = getattr(message, "reply_markup", None) if message is not None else None
    for row in markup.inline_keyboard if markup is not None else []:
        for button in row:
            if button.callback_data == query.data:
                return button.text
    return ""


def media_of(message: Message) -> list[dict[str, Any]]:
    """Evidence the buyer sent: files by Telegram file_id, and links in the text."""
    media: list[dict[str, Any]] = []
    if message.photo:
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        media.append({"kind": "photo", "file_id": largest.file_id, "mime_type": "image/jpeg"})
    if message.video is not None:
        video = message.video
        media.append({"kind": "video", "file_id": video.file_id, "mime_type": video.mime_type})
    if message.video_note is not None:
        media.append({"kind": "video", "file_id": message.video_note.file_id, "mime_type": "video/mp4"})
    if message.document is not None:
        document = message.document
        media.append({"kind": "document", "file_id": document.file_id, "mime_type": document.mime_type})
    text = message.text or message.caption or ""
    urls = _LINK.findall(text)
    urls += [e.url for e in (message.entities or message.caption_entities or []) if e.url]
    media += [{"kind": "link", "url": url.rstrip(".,;:!?)")} for url in dict.fromkeys(urls)]
    return media


def chat_of(update: Update) -> int:
    """The chat an update belongs to (0 when it names none)."""
    if update.message is not None:
        return update.message.chat.id
    query = update.callback_query
    if query is not None:
        return query.message.chat.id if query.message is not None else query.from_user.id
    return 0


def who(user: User | None, chat_id: int) -> dict[str, Any]:
    return {
        "channel": CHANNEL,
        "address": str(chat_id),
        "language_code": user.language_code if user else None,
        "user_id": user.id if user else None,
    }


class TelegramIntake:
    """`handle(update)` returns once the update's meaning is durably accepted;
    it raises when the store cannot take it, so the update is not confirmed."""

    def __init__(
        self, runtime: Runtime, renderer: Renderer, replies: DirectReplies, bot: Bot, guard: GuardStore
    ) -> None:
        self.runtime, self.store = runtime, runtime.store
        self.renderer, self.replies, self.bot = renderer, replies, bot
        self.binding = NumberBinding(runtime, guard, CHANNEL, BindingLimits.from_policy(runtime.engine.policy))
        #: update ids fully handled by this process: a redelivery must not repeat a direct reply
        self._seen: OrderedDict[int, None] = OrderedDict()
        #: the agents' forum group door (bot/channels/agents.py), when configured
        self.group_handler: Callable[[int, Message | CallbackQuery], Awaitable[None]] | None = None

    async def handle_batch(self, updates: Sequence[Update]) -> None:
        """A getUpdates batch: each chat's updates in order, the chats side by
        side (so their store calls share round trips). Raises, after the
        others are done, when any update was not accepted."""
        by_chat: dict[int, list[Update]] = {}
        for update in updates:
            by_chat.setdefault(chat_of(update), []).append(update)

        async def one_chat(batch: list[Update]) -> None:
            for update in batch:
                await self.handle(update)

        if len(by_chat) == 1:  # the usual case: no task to spawn
            (batch,) = by_chat.values()
            await one_chat(batch)
            return
        results = await asyncio.gather(*(one_chat(batch) for batch in by_chat.values()), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def handle(self, update: Update) -> None:
        if update.update_id in self._seen:
            return
        if update.message is not None:
            await self._on_message(update.update_id, update.message)
        elif update.callback_query is not None:
            await self._on_callback(update.update_id, update.callback_query)
        self._seen[update.update_id] = None
        if len(self._seen) > SEEN_LIMIT:
            self._seen.popitem(last=False)

    async def on_group_update(self, update_id: int, message: Message | CallbackQuery) -> None:
        """Groups are never buyers: the agents' desk takes them, if there is one."""
        if self.group_handler is not None:
            await self.group_handler(update_id, message)
            return
        log.debug("group update %s ignored", update_id)

    # -- messages -----------------------------------------------------------
    async def _on_message(self, update_id: int, message: Message) -> None:
        if message.chat.type != "private":
            await self.on_group_update(update_id, message)
            return
        chat_id, text = message.chat.id, message.text or message.caption or ""
        token = start_argument(message.text or "")
        if token is not None:
            await self._on_start(update_id, message, token)
            return
        bound = await self.store.bound(CHANNEL, str(chat_id))
        if not bound:
            await self._on_unbound(update_id, message)
            return
        payload = {**who(message.from_user, chat_id), "text": text}
        media = media_of(message)
        if media:
            payload["media"], payload["media_kind"] = media, media[0]["kind"]
        await self.runtime.submit(self._inbound(bound[0], "buyer_message", payload, update_id))

    async def _on_start(self, update_id: int, message: Message, token: str) -> None:
        order_id = await self.store.order_for_token(token) if 8 <= len(token) <= 64 else None
        if order_id is None:
            self._say(message, "common/start_help")
            return
        await self._bind(update_id, message, order_id)

    async def _bind(self, update_id: int, message: Message, order_id: str) -> None:
        chat_id = message.chat.id
        await self.store.bind(CHANNEL, str(chat_id), order_id)
        payload = who(message.from_user, chat_id)
        await self.runtime.submit(self._inbound(order_id, "buyer_bound", payload, update_id))

    async def _on_unbound(self, update_id: int, message: Message) -> None:
        """A chat bound to nothing: maybe an order number, maybe the answer to
        the second-fact question; the replies never tell whether an order exists."""
        outcome = await self.binding.says(str(message.chat.id), message.text or "")
        if outcome.template:
            self._say(message, outcome.template, **outcome.context)

    # -- buttons ------------------------------------------------------------
    async def _on_callback(self, update_id: int, query: CallbackQuery) -> None:
        chat = query.message.chat if query.message is not None else None
        if chat is not None and chat.type != "private":
            await self.on_group_update(update_id, query)
            return
        chat_id = chat.id if chat is not None else query.from_user.id
        # buttons sent before the prefix existed carry none
        parsed = parse_callback((query.data or "").removeprefix(CALLBACK_PREFIX))
        bound = await self.store.bound(CHANNEL, str(chat_id)) if parsed else []
        if parsed is None or parsed[2] not in bound:
            # a button of an order this chat no longer (or never) talks about
            await self._answer(query, self._text("common/stale_button", query.from_user.language_code))
            return
        action, dialog, conversation_id = parsed
        payload = {**who(query.from_user, chat_id), "action": action, "dialog": dialog,
                   "callback_query_id": query.id, "label": pressed_label(query)}  # fmt: skip
        await self.runtime.submit(self._inbound(conversation_id, "button_pressed", payload, update_id))
        await self._answer(query, None)

    async def _answer(self, query: CallbackQuery, text: str | None) -> None:
        """Stops the button's spinner; a failure (query too old) changes nothing."""
        try:
            await self.bot.answer_callback_query(query.id, text=text[:200] if text else None)
        except Exception as exc:
            log.info("answerCallbackQuery %s failed: %s", query.id, exc)

    # -- helpers ------------------------------------------------------------
    def _inbound(self, conversation_id: str, trigger: str, payload: dict[str, Any], update: int) -> Inbound:
        return Inbound(conversation_id, trigger, payload, f"tg:{update}", self.runtime.clock.now())

    def _text(self, template: str, language: str | None, **context: Any) -> str:
        try:
            return self.renderer.text(template, language or "en", context, CHANNEL)
        except Exception:
            log.exception("cannot render %s", template)
            return FALLBACK_TEXT

    def _say(self, message: Message, template: str, **context: Any) -> None:
        language = message.from_user.language_code if message.from_user else None
        self.replies.reply(message.chat.id, self._text(template, language, **context))
