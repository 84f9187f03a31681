"""BuyerBot inside a python-telegram-bot (v21+) `Application`:

    from buyerbot.integrations.ptb import attach
    buyerbot = attach(application, settings)   # before application.run_polling()

One handler in a group of its own (run before the store's) takes BuyerBot's
updates and stops them there; BuyerBot starts in `post_init` and stops in
`post_stop` / `post_shutdown`, after the store's own hooks of those names.
It sends through `application.bot` (see docs/embedding.md)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import telegram
from aiogram import Bot
from aiogram.types import Update
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.config import Settings
from bot.integrations.embedded import EmbeddedBuyerBot
from bot.integrations.ptb_session import PtbSession
from dialogs.policy import Policy
from dialogs.ports import Clock

__all__ = ["BUYERBOT_GROUP", "EmbeddedBuyerBot", "Settings", "attach", "sending_bot", "to_aiogram_update"]

log = logging.getLogger(__name__)
#: PTB runs handler groups in ascending order; the store's default group is 0
BUYERBOT_GROUP = -100

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def sending_bot(ptb_bot: telegram.Bot) -> Bot:
    """An aiogram `Bot` whose every call goes out through `ptb_bot`."""
    return Bot(ptb_bot.token, session=PtbSession(ptb_bot))


def to_aiogram_update(update: telegram.Update, bot: Bot) -> Update:
    return Update.model_validate(update.to_dict(), context={"bot": bot})


def attach(
    application: AnyApplication,
    settings: Settings | Mapping[str, Any] | None = None,
    *,
    group: int = BUYERBOT_GROUP,
    serve_http: bool = True,
    policy: Policy | None = None,
    clock: Clock | None = None,
) -> EmbeddedBuyerBot:
    """Attach BuyerBot to `application`. `settings`: a `Settings`, or a mapping
    of its fields over the BUYERBOT_* environment, or (None) that environment.
    Returns the handle whose `hand_over(chat_id)` and `take_back(chat_id)` the
    store's commands may call."""
    buyerbot = EmbeddedBuyerBot(settings, policy=policy, clock=clock, serve_http=serve_http)
    holder: dict[str, Bot] = {}

    async def on_update(update: telegram.Update, context: Any) -> None:
        bot = holder.get("bot")
        if bot is None or not buyerbot.started:
            return
        try:
            converted = to_aiogram_update(update, bot)
        except ValueError:  # pydantic's ValidationError: not an update BuyerBot could read
            log.warning("update %s left to the store: not readable as a Bot API update", update.update_id)
            return
        if await buyerbot.feed(converted):
            raise ApplicationHandlerStop  # stored: none of the store's handlers sees it

    # block=True even under Defaults(block=False): ApplicationHandlerStop only works from a blocking handler
    application.add_handler(TypeHandler(telegram.Update, on_update, block=True), group=group)
    host_init, host_stop, host_shutdown = application.post_init, application.post_stop, application.post_shutdown

    async def post_init(app: AnyApplication) -> None:
        holder["bot"] = sending_bot(app.bot)
        await buyerbot.start(holder["bot"])
        if host_init is not None:
            await host_init(app)

    async def post_stop(app: AnyApplication) -> None:
        try:
            if host_stop is not None:
                await host_stop(app)
        finally:
            await buyerbot.stop()  # the application's bot still works here: last sends go out

    async def post_shutdown(app: AnyApplication) -> None:
        try:
            if host_shutdown is not None:
                await host_shutdown(app)
        finally:
            await buyerbot.stop()  # nothing left to do when post_stop ran

    application.post_init, application.post_stop, application.post_shutdown = post_init, post_stop, post_shutdown
    return buyerbot
