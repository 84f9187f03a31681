"""BuyerBot inside an aiogram 3 `Dispatcher`:

    from buyerbot.integrations.aiogram import attach
    buyerbot = attach(dispatcher, settings)    # includes its router first

or by hand: `dispatcher.include_router(buyerbot.router)` before the store's
routers, plus `dispatcher.startup.register(buyerbot.on_startup)` and
`dispatcher.shutdown.register(buyerbot.on_shutdown)`. BuyerBot sends through
the dispatcher's `Bot` (see docs/embedding.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.types import CallbackQuery, Message, Update

from bot.config import Settings
from bot.integrations.embedded import EmbeddedBuyerBot
from dialogs.policy import Policy
from dialogs.ports import Clock

__all__ = ["AiogramBuyerBot", "Settings", "attach"]


class AiogramBuyerBot(EmbeddedBuyerBot):
    """`router`: messages and button presses that are BuyerBot's; anything
    else is left to the next routers untouched."""

    def __init__(self, settings: Settings | Mapping[str, Any] | None = None, **options: Any) -> None:
        super().__init__(settings, **options)
        self.router = Router(name="buyerbot")
        self.router.message.register(self._taken, self._takes)
        self.router.callback_query.register(self._taken, self._takes)

    async def _takes(self, event: Message | CallbackQuery, event_update: Update) -> bool:
        return await self.owns(event_update)

    async def _taken(self, event: Message | CallbackQuery, event_update: Update) -> None:
        """In the inbox when this returns; the update goes no further."""
        await self.take(event_update)

    async def on_startup(self, bot: Bot) -> None:
        await self.start(bot)

    async def on_shutdown(self) -> None:
        await self.stop()


def attach(
    dispatcher: Dispatcher,
    settings: Settings | Mapping[str, Any] | None = None,
    *,
    serve_http: bool = True,
    policy: Policy | None = None,
    clock: Clock | None = None,
) -> AiogramBuyerBot:
    """Include BuyerBot's router (call this before including the store's
    routers: aiogram asks routers in the order they were included) and run
    BuyerBot with the dispatcher's startup and shutdown."""
    buyerbot = AiogramBuyerBot(settings, serve_http=serve_http, policy=policy, clock=clock)
    dispatcher.include_router(buyerbot.router)
    dispatcher.startup.register(buyerbot.on_startup)
    dispatcher.shutdown.register(buyerbot.on_shutdown)
    return buyerbot
