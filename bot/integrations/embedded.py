"""BuyerBot's runtime inside a store's own bot: the same store, engine, sender,
scheduler (and event API, if wanted) as `buyerbot run`, with a Telegram door
that never polls: the host library feeds it the updates that are BuyerBot's
(`feed`) and BuyerBot sends through the host's bot."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

import uvicorn
from aiogram import Bot
from aiogram.types import Update
from fastapi import FastAPI

from bot.app import Services, create_app, start_services
from bot.channels.telegram import TelegramDoor
from bot.channels.telegram_intake import start_argument
from bot.config import Settings, load_settings
from bot.http_server import server_config
from bot.integrations.claims import ChatMode, UpdateClaims, answer_window
from bot.rendering import Renderer
from bot.runtime import Runtime
from dialogs.policy import Policy, load_policy
from dialogs.ports import Clock

log = logging.getLogger(__name__)
#: a store write that fails is tried this many times before the update is given up
FEED_ATTEMPTS = 3
#: the HTTP surface gets this many 50 ms ticks to start
HTTP_START_TICKS = 400


class EmbeddedDoor(TelegramDoor):
    """The Telegram door on the host's bot: no polling, no webhook of its own
    (the host's HTTP session is the host's to close: `TelegramDoor` leaves a
    Bot it was handed open)."""

    def __init__(self, settings: Settings, runtime: Runtime, bot: Bot) -> None:
        super().__init__(settings.model_copy(update={"telegram_mode": "polling"}), runtime, bot=bot)
        self.webhook, self.router = False, None

    async def start(self) -> None:
        self.replies.start()

    async def stop(self) -> None:
        with contextlib.suppress(TimeoutError):  # the last direct replies, if they go out soon
            await asyncio.wait_for(self.replies.drained(), 2.0)
        await super().stop()


class _ServerInHost(uvicorn.Server):
    """The event API's server inside the host's process: the host owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class EmbeddedBuyerBot:
    """Start with `start(bot)` (an aiogram `Bot` that sends through the host's
    bot), stop with `stop()`; in between, `feed(update)` takes BuyerBot's
    updates and leaves the rest. `bot.integrations.ptb` and `.aiogram` wire
    this into each library's lifecycle."""

    def __init__(
        self,
        settings: Settings | Mapping[str, Any] | None = None,
        *,
        policy: Policy | None = None,
        clock: Clock | None = None,
        serve_http: bool = True,
    ) -> None:
        if settings is None or isinstance(settings, Mapping):
            settings = load_settings(**(settings or {}))  # BUYERBOT_* of the environment, then these
        self.settings = settings
        self.policy = policy or load_policy(self.settings.policy)
        answer_window(self.policy)  # a wrong value stops the host at attach, not later
        self.clock, self.serve_http = clock, serve_http
        self.services: Services | None = None
        self.door: EmbeddedDoor | None = None
        self.claims: UpdateClaims | None = None
        self.http: FastAPI | None = None
        self._server: _ServerInHost | None = None
        self._server_task: asyncio.Task[None] | None = None
        if self.settings.telegram_token:
            log.info("BUYERBOT_TELEGRAM_TOKEN is ignored: BuyerBot sends through the store's bot")

    @property
    def started(self) -> bool:
        return self.services is not None

    async def start(self, bot: Bot) -> None:
        if self.services is not None:
            return

        def door(runtime: Runtime) -> TelegramDoor:
            self.door = EmbeddedDoor(self.settings, runtime, bot)
            return self.door

        services = await start_services(self.settings, self.policy, self.clock, telegram_door=door)
        runtime = services.runtime
        self.claims = UpdateClaims(
            services.store, runtime.engine, runtime.clock, services.policy, self.settings.agent_chat_id or 0
        )
        self.services = services
        try:
            if self.serve_http:
                await self._start_http(services)
        except BaseException:
            self.services = None
            await services.close()
            raise
        try:
            log.info("BuyerBot attached to the store's bot @%s", (await bot.get_me()).username)
        except Exception as exc:  # only the log line needs it
            log.info("BuyerBot attached to the store's bot (getMe failed: %r)", exc)

    async def stop(self) -> None:
        services, self.services = self.services, None
        if services is None:
            return
        if self._server is not None and self._server_task is not None:
            self._server.should_exit = True
            await asyncio.gather(self._server_task, return_exceptions=True)
            self._server = self._server_task = None
        await services.close()
        log.info("BuyerBot stopped")

    # -- updates --------------------------------------------------------------------
    async def feed(self, update: Update) -> bool:
        """True when the update is BuyerBot's: it is then in the store's inbox
        (or was already) when this returns, and the store's handlers must not
        see it. False leaves it to the store. Raises when the store cannot be
        used after FEED_ATTEMPTS tries."""
        if not await self.owns(update):
            return False
        await self.take(update)
        return True

    async def owns(self, update: Update) -> bool:
        """Whether the update is BuyerBot's (see `UpdateClaims`)."""
        claims = self.claims
        if claims is None:
            log.warning("update %s arrived before BuyerBot started: left to the store", update.update_id)
            return False
        return await self._retrying(update, lambda: claims.owns(update))

    async def take(self, update: Update) -> None:
        """Store an update that `owns` gave to BuyerBot (and answer what needs
        no dialog: help, binding questions, stale buttons)."""
        _, door = self._require()

        async def take() -> bool:
            await door.intake.handle(update)
            await self._after_link(update)
            return True

        await self._retrying(update, take)

    async def _retrying(self, update: Update, call: Callable[[], Awaitable[bool]]) -> bool:
        for attempt in range(1, FEED_ATTEMPTS):
            try:
                return await call()
            except Exception:
                log.warning("update %s: the store failed (attempt %d)", update.update_id, attempt, exc_info=True)
                await asyncio.sleep(0.5 * attempt)
        return await call()

    async def _after_link(self, update: Update) -> None:
        """A buyer who opens an order link again is BuyerBot's again, even
        after the store took the chat back."""
        message = update.message
        if message is None or not start_argument(message.text or "") or self.claims is None:
            return
        if await self.claims.mode(message.chat.id) is ChatMode.STORE:
            await self.claims.set_mode(message.chat.id, ChatMode.AUTO)

    # -- the store's commands ------------------------------------------------------------
    async def hand_over(self, chat_id: int, *, language_code: str | None = None) -> None:
        """From now on BuyerBot takes every message of this chat (the store's
        commands excepted). A chat bound to no order is asked for its order."""
        claims, door = self._require()
        await claims.set_mode(chat_id, ChatMode.BUYERBOT)
        if not await claims.store.bound("telegram", str(chat_id)):
            text = Renderer(self.settings.templates).text("common/start_help", language_code or "en", {}, "telegram")
            door.replies.reply(chat_id, text)

    async def take_back(self, chat_id: int) -> None:
        """From now on BuyerBot takes only its links and buttons in this chat,
        until the store hands it over again or the buyer opens an order link."""
        claims, _ = self._require()
        await claims.set_mode(chat_id, ChatMode.STORE)

    async def chat_mode(self, chat_id: int) -> ChatMode:
        claims, _ = self._require()
        return await claims.mode(chat_id)

    async def link_token(self, order_id: str) -> str:
        """The order's deep-link token: `https://t.me/<bot>?start=<token>`."""
        if self.services is None:
            raise RuntimeError("BuyerBot is not started")
        return await self.services.runtime.ensure_link_token(order_id)

    def _require(self) -> tuple[UpdateClaims, EmbeddedDoor]:
        if self.claims is None or self.door is None:
            raise RuntimeError("BuyerBot is not started")
        return self.claims, self.door

    # -- the event API ----------------------------------------------------------------
    async def _start_http(self, services: Services) -> None:
        """`buyerbot run`'s HTTP surface (event API, web chat, console, healthz)
        around the running services, served on the host's loop."""
        settings = self.settings
        app = create_app(settings, running=services)
        # bound here, so a port in use is an OSError for the host, not uvicorn's sys.exit
        sock = socket.create_server((settings.http_host, settings.http_port))
        self.http, self._server = app, _ServerInHost(server_config(app, settings))
        self._server_task = asyncio.create_task(self._server.serve(sockets=[sock]), name="buyerbot-http")
        for _ in range(HTTP_START_TICKS):
            if self._server.started or self._server_task.done():
                break
            await asyncio.sleep(0.05)
        if not self._server.started:
            self._server.should_exit = True
            await asyncio.gather(self._server_task, return_exceptions=True)
            sock.close()
            raise OSError(f"BuyerBot's HTTP surface did not start on {settings.base_url} (see the log)")
        log.info("BuyerBot's event API on %s", settings.base_url)
