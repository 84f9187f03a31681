"""Telegram's sending side: rendered messages to sendMessage calls (plain text,
inline keyboards, long texts split), Bot API errors to SendResults."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods.base import Response
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.config import Settings
from bot.rendering import split_text
from dialogs.ports import Capabilities, RenderedMessage, SendResult

#: pydantic caches generic classes weakly; without a strong reference every GC
#: makes aiogram rebuild Response[Message] on the next call (measured: 1.7 % CPU)
_RESPONSE_TYPES = (Response[Message], Response[list[Update]], Response[bool])

log = logging.getLogger(__name__)
MAX_TEXT = 4096
#: partially sent messages remembered at most (a message that is never retried must not leak)
MAX_PROGRESS = 1000
#: marks BuyerBot's buttons, so a store's bot that BuyerBot lives in can tell them from its own
CALLBACK_PREFIX = "bb:"


def make_bot(settings: Settings) -> Bot:
    """A Bot talking to the configured API server (the real one or a local/fake one)."""
    assert settings.telegram_token, "telegram_token is required"
    api = TelegramAPIServer.from_base(settings.telegram_api_url)
    return Bot(settings.telegram_token, session=AiohttpSession(api=api))


def keyboard(buttons: tuple[tuple[str, str, str | None], ...]) -> InlineKeyboardMarkup | None:
    """One button per row: narrow phones show long labels in full. Callback
    data carries CALLBACK_PREFIX (`rendering.CALLBACK_LIMIT` leaves room for it)."""
    if not buttons:
        return None
    rows = [
        [InlineKeyboardButton(text=label, url=url)]
        if url
        else [InlineKeyboardButton(text=label, callback_data=CALLBACK_PREFIX + data)]
        for data, label, url in buttons
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def error_result(exc: Exception) -> SendResult:
    """How the sender must treat a failed Bot API call."""
    if isinstance(exc, TelegramRetryAfter):
        return SendResult(ok=False, retry_after=float(exc.retry_after), error=exc.message)
    if isinstance(exc, TelegramForbiddenError):
        return SendResult(ok=False, permanent=True, error=exc.message)
    if isinstance(exc, TelegramBadRequest):
        # "chat not found" and every other malformed request: retrying sends the same request again
        return SendResult(ok=False, permanent=True, error=exc.message)
    if isinstance(exc, TelegramServerError | TelegramNetworkError | TimeoutError):
        return SendResult(ok=False, error=str(exc) or type(exc).__name__)
    if isinstance(exc, TelegramAPIError):
        return SendResult(ok=False, error=exc.message)
    return SendResult(ok=False, error=repr(exc))  # unknown: retry, the sender gives up in time


class TelegramChannel:
    """The `Channel` port on the Bot API. Address: the private chat id as text."""

    name = "telegram"
    capabilities = Capabilities(max_buttons=8, max_button_title=64, max_text=MAX_TEXT)

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        #: message_id -> Telegram ids of the parts already delivered (a retry skips them)
        self._progress: OrderedDict[str, list[int]] = OrderedDict()

    async def send(self, address: str, message: RenderedMessage) -> SendResult:
        try:
            chat_id = int(address)
        except ValueError:
            return SendResult(ok=False, permanent=True, error=f"not a Telegram chat id: {address!r}")
        parts = split_text(message.text, MAX_TEXT)
        done = self._progress.pop(message.message_id, []) if message.message_id else []
        markup = keyboard(message.buttons)
        try:
            for index in range(len(done), len(parts)):
                last = index == len(parts) - 1
                sent = await self.bot.send_message(
                    chat_id, parts[index], parse_mode=None, reply_markup=markup if last else None
                )
                done.append(sent.message_id)
        except Exception as exc:
            result = error_result(exc)
            if done and message.message_id and not result.permanent:
                self._remember(message.message_id, done)
            return result
        return SendResult(ok=True, channel_message_id=f"{chat_id}:{done[-1]}")

    def _remember(self, message_id: str, done: list[int]) -> None:
        self._progress[message_id] = done
        while len(self._progress) > MAX_PROGRESS:
            self._progress.popitem(last=False)


class DirectReplies:
    """Answers to chats that have no conversation yet (help, binding): they
    bypass the outbox, so this small queue retries a 429 itself."""

    def __init__(self, bot: Bot, attempts: int = 5) -> None:
        self.bot, self.attempts = bot, attempts
        self._queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue(maxsize=10_000)
        self._task: asyncio.Task[None] | None = None

    def reply(self, chat_id: int, text: str) -> None:
        try:
            self._queue.put_nowait((chat_id, text))
        except asyncio.QueueFull:
            log.warning("direct reply to %s dropped: the reply queue is full", chat_id)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="telegram-replies")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def drained(self) -> None:
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            chat_id, text = await self._queue.get()
            try:
                await self._send(chat_id, text)
            finally:
                self._queue.task_done()

    async def _send(self, chat_id: int, text: str) -> None:
        for _ in range(self.attempts):
            try:
                await self.bot.send_message(chat_id, text[:MAX_TEXT], parse_mode=None)
                return
            except Exception as exc:
                result = error_result(exc)
                if result.permanent:
                    break
                await asyncio.sleep(result.retry_after or 1.0)
        log.warning("direct reply to %s not delivered", chat_id)
