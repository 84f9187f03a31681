"""The Telegram door: durable long polling or a secret-checked webhook feed the
intake; `TelegramChannel` sends. An update is confirmed only once accepted."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramConflictError, TelegramRetryAfter
from aiogram.types import Update
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from bot.channels.telegram_intake import TelegramIntake
from bot.channels.telegram_send import DirectReplies, TelegramChannel, make_bot
from bot.config import Settings
from bot.rendering import Renderer
from bot.runtime import Runtime
from bot.storage.guard import open_guard, store_url_of

__all__ = ["TelegramChannel", "TelegramDoor", "bot_username"]

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "callback_query"]
MAX_UPDATE_BYTES = 1_000_000


class TelegramDoor:
    def __init__(self, settings: Settings, runtime: Runtime, *, poll_timeout: int = 25, bot: Bot | None = None) -> None:
        self.settings, self.runtime, self.poll_timeout = settings, runtime, poll_timeout
        self.bot = bot if bot is not None else make_bot(settings)
        #: a Bot handed in (a store's own bot's) is its owner's to close
        self._owns_bot = bot is None
        self.channel = TelegramChannel(self.bot)
        self.replies = DirectReplies(self.bot)
        self.guard = open_guard(store_url_of(runtime.store, settings))
        self.intake = TelegramIntake(runtime, Renderer(settings.templates), self.replies, self.bot, self.guard)
        self.webhook = settings.telegram_mode == "webhook"
        self.router: APIRouter | None = webhook_router(self) if self.webhook else None
        self._task: asyncio.Task[None] | None = None
        #: several processes on one store, polling: only the scheduler leader
        #: polls (`lead`, `stand_by`); Telegram allows one getUpdates at a time
        self.poll_when_leading = False

    async def start(self) -> None:
        self.replies.start()
        if self.webhook or not self.poll_when_leading:
            intake = self._register_webhook() if self.webhook else self.poll()
            self._task = asyncio.create_task(intake, name="telegram-intake")

    async def lead(self) -> None:
        if self.poll_when_leading and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self.poll(), name="telegram-intake")

    async def stand_by(self) -> None:
        if self.poll_when_leading:
            await self._stop_intake()

    async def _stop_intake(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def stop(self) -> None:
        await self._stop_intake()
        await self.replies.stop()
        if self._owns_bot:
            await self.bot.session.close()
        await self.guard.close()

    # -- polling ------------------------------------------------------------
    async def poll(self) -> None:
        """Not Dispatcher.start_polling: it confirms updates before handling them.
        Here the next getUpdates(offset=last+1) confirms a batch only after
        every update in it was accepted."""
        await _until_done("deleteWebhook", lambda: self.bot.delete_webhook(drop_pending_updates=False))
        offset: int | None = None
        delay = 1.0
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES,
                    request_timeout=self.poll_timeout + 15,
                )  # fmt: skip
                await self.intake.handle_batch(updates)
                if updates:
                    offset = max(u.update_id for u in updates) + 1
                delay = 1.0
            except TelegramConflictError as exc:
                log.error("Telegram refuses polling (webhook set? another instance polling?): %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
            except TelegramRetryAfter as exc:
                await asyncio.sleep(exc.retry_after)
            except Exception as exc:  # the network or the store: the batch is fetched again
                log.warning("Telegram polling failed, retrying in %.0f s: %r", delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    # -- webhook ------------------------------------------------------------
    async def _register_webhook(self) -> None:
        url, secret = self.settings.telegram_webhook_url, self.settings.telegram_webhook_secret
        assert url and secret, "webhook mode needs telegram_webhook_url and telegram_webhook_secret"
        await _until_done(
            "setWebhook",
            lambda: self.bot.set_webhook(
                url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
            ),
        )
        log.info("Telegram webhook set to %s", url)

    def secret_ok(self, given: str | None) -> bool:
        expected = (self.settings.telegram_webhook_secret or "").encode()
        return bool(expected) and hmac.compare_digest((given or "").encode(), expected)


def webhook_router(door: TelegramDoor) -> APIRouter:
    router = APIRouter()

    @router.post("/telegram/webhook", include_in_schema=False)
    async def telegram_webhook(request: Request) -> JSONResponse:
        if not door.secret_ok(request.headers.get("X-Telegram-Bot-Api-Secret-Token")):
            return JSONResponse({"detail": "missing or wrong X-Telegram-Bot-Api-Secret-Token"}, 401)
        body = await request.body()
        if len(body) > MAX_UPDATE_BYTES:
            return JSONResponse({"detail": "update too large"}, 413)
        try:
            update = Update.model_validate_json(body, context={"bot": door.bot})
        except ValidationError as exc:
            return JSONResponse({"detail": f"not a Telegram update: {_first_error(exc)}"}, 400)
        try:
            await door.intake.handle(update)
        except Exception:
            # not 200: Telegram delivers the update again later
            log.exception("Telegram update %s not accepted", update.update_id)
            return JSONResponse({"detail": "not accepted, try again"}, 503)
        return JSONResponse({"ok": True})

    return router


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])


async def _until_done(what: str, call: Callable[[], Awaitable[Any]]) -> None:
    """Retry a start-up call with backoff: Telegram being down must not stop the bot."""
    delay = 1.0
    while True:
        try:
            await call()
            return
        except Exception as exc:
            log.warning("Telegram %s failed, retrying in %.0f s: %r", what, delay, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)


async def bot_username(settings: Settings) -> str:
    """The bot's @username (for t.me deep links), from getMe."""
    bot = make_bot(settings)
    try:
        me = await bot.get_me()
    finally:
        await bot.session.close()
    return me.username or ""
