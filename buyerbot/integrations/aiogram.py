"""BuyerBot inside an aiogram 3 `Dispatcher`: see `bot.integrations.aiogram`."""

from bot.integrations.aiogram import AiogramBuyerBot, Settings, attach

__all__ = ["AiogramBuyerBot", "Settings", "attach"]
