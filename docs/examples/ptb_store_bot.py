"""A store's own bot on python-telegram-bot, with BuyerBot attached.

The store keeps its commands, its buttons and its catch-all echo; BuyerBot
takes only what is its own (its order links, its buttons, answers to its
questions) and whatever chat `/support` hands it, until `/shop`.

    pip install "buyerbot[ptb]"
    STORE_BOT_TOKEN=123:ABC BUYERBOT_API_TOKEN=... python ptb_store_bot.py

BuyerBot's settings come from the BUYERBOT_* environment (docs/embedding.md);
TELEGRAM_API_URL points the store's bot at another Bot API server."""

from __future__ import annotations

import logging
import os

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from buyerbot.integrations.ptb import EmbeddedBuyerBot, attach

Context = ContextTypes.DEFAULT_TYPE


def buyerbot_of(context: Context) -> EmbeddedBuyerBot:
    buyerbot: EmbeddedBuyerBot = context.application.bot_data["buyerbot"]
    return buyerbot


async def start(update: Update, context: Context) -> None:
    """Only a plain /start comes here: /start with an order link is BuyerBot's."""
    assert update.effective_message is not None
    await update.effective_message.reply_text("Welcome to Lamp Shop! /catalog shows what we sell.")


async def catalog(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    more = InlineKeyboardMarkup([[InlineKeyboardButton("More lamps", callback_data="catalog:more")]])
    await update.effective_message.reply_text("Our catalogue: solar lamps, desk lamps.", reply_markup=more)


async def more_lamps(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer()
    await context.bot.send_message(query.message.chat.id, "More lamps: garden lamps, night lights.")


async def support(update: Update, context: Context) -> None:
    """Hands the chat to BuyerBot: from now on it answers every message here."""
    assert update.effective_chat is not None and update.effective_user is not None
    language = update.effective_user.language_code
    await buyerbot_of(context).hand_over(update.effective_chat.id, language_code=language)


async def shop(update: Update, context: Context) -> None:
    """Takes the chat back: BuyerBot keeps only its links and buttons here."""
    assert update.effective_chat is not None and update.effective_message is not None
    await buyerbot_of(context).take_back(update.effective_chat.id)
    await update.effective_message.reply_text("Back in the shop. /catalog shows what we sell.")


async def echo(update: Update, context: Context) -> None:
    """The store's catch-all."""
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(f"You said: {message.text}")


def build(token: str, api_url: str = "https://api.telegram.org") -> Application:  # type: ignore[type-arg]
    application = ApplicationBuilder().token(token).base_url(f"{api_url}/bot").build()
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("catalog", catalog))
    application.add_handler(CommandHandler("support", support))
    application.add_handler(CommandHandler("shop", shop))
    application.add_handler(CallbackQueryHandler(more_lamps, pattern="^catalog:"))
    application.add_handler(MessageHandler(filters.ALL, echo))
    # BuyerBot's handler goes in a group of its own that runs first; it
    # starts and stops with the application (post_init / post_stop)
    application.bot_data["buyerbot"] = attach(application)
    return application


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    api_url = os.environ.get("TELEGRAM_API_URL", "https://api.telegram.org")
    build(os.environ["STORE_BOT_TOKEN"], api_url).run_polling()


if __name__ == "__main__":
    main()
