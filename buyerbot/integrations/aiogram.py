"""BuyerBot inside an aiogram 3 `Dispatcher`: see `bot.integrations.aiogram`."""

from bot.integrations.aiogram import AiogramBuyerBot, attach

__all__ = ["AiogramBuyerBot", "attach"]
