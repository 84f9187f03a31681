"""BuyerBot inside a store's own Telegram bot: python-telegram-bot (`ptb`) and
aiogram 3 (`aiogram`). See docs/embedding.md."""
