"""The public name for embedding BuyerBot in a store's own bot: `buyerbot.integrations`
re-exports `bot.integrations` (the package BuyerBot's code lives in); `Settings` are
BuyerBot's settings (BUYERBOT_* of the environment, or given field by field)."""

from bot.config import Settings, load_settings

__all__ = ["Settings", "load_settings"]
