"""BuyerBot inside a python-telegram-bot `Application`: see `bot.integrations.ptb`."""

from bot.integrations.ptb import BUYERBOT_GROUP, EmbeddedBuyerBot, Settings, attach, sending_bot, to_aiogram_update

__all__ = ["BUYERBOT_GROUP", "EmbeddedBuyerBot", "Settings", "attach", "sending_bot", "to_aiogram_update"]
