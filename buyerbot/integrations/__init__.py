"""`buyerbot.integrations.ptb` (python-telegram-bot) and `buyerbot.integrations.aiogram`."""
