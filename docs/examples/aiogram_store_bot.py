"""A store's own bot on aiogram 3, with BuyerBot's router included first.

The store keeps its router (commands, buttons, a catch-all echo); BuyerBot
takes only what is its own (its order links, its buttons, answers to its
questions) and whatever chat `/support` hands it, until `/shop`.

    STORE_BOT_TOKEN=123:ABC BUYERBOT_API_TOKEN=... python aiogram_store_bot.py

BuyerBot's settings come from the BUYERBOT_* environment (docs/embedding.md);
TELEGRAM_API_URL points the store's bot at another Bot API server."""

from __future__ import annotations

import asyncio
import logging
import os

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from buyerbot.integrations.aiogram import AiogramBuyerBot, attach


def store_router(buyerbot: AiogramBuyerBot) -> Router:
    store = Router(name="store")

    @store.message(CommandStart())
    async def start(message: Message) -> None:
        """Only a plain /start comes here: /start with an order link is BuyerBot's."""
        await message.answer("Welcome to Lamp Shop! /catalog shows what we sell.")

    @store.message(Command("catalog"))
    async def catalog(message: Message) -> None:
        more = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="More lamps", callback_data="catalog:more")]]
        )
        await message.answer("Our catalogue: solar lamps, desk lamps.", reply_markup=more)

    @store.callback_query(F.data.startswith("catalog:"))
    async def more_lamps(query: CallbackQuery, bot: Bot) -> None:
        await query.answer()
        await bot.send_message(query.from_user.id, "More lamps: garden lamps, night lights.")

    @store.message(Command("support"))
    async def support(message: Message) -> None:
        """Hands the chat to BuyerBot: from now on it answers every message here."""
        language = message.from_user.language_code if message.from_user else None
        await buyerbot.hand_over(message.chat.id, language_code=language)

    @store.message(Command("shop"))
    async def shop(message: Message) -> None:
        """Takes the chat back: BuyerBot keeps only its links and buttons here."""
        await buyerbot.take_back(message.chat.id)
        await message.answer("Back in the shop. /catalog shows what we sell.")

    @store.message()
    async def echo(message: Message) -> None:
        """The store's catch-all."""
        if message.text:
            await message.answer(f"You said: {message.text}")

    return store


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    api = TelegramAPIServer.from_base(os.environ.get("TELEGRAM_API_URL", "https://api.telegram.org"))
    bot = Bot(os.environ["STORE_BOT_TOKEN"], session=AiohttpSession(api=api))
    dispatcher = Dispatcher()
    buyerbot = attach(dispatcher)  # BuyerBot's router first, then the store's
    dispatcher.include_router(store_router(buyerbot))
    # handle_as_tasks=False: the next getUpdates (which confirms a batch to
    # Telegram) waits until BuyerBot has stored what it took from the batch
    await dispatcher.start_polling(bot, handle_as_tasks=False)


if __name__ == "__main__":
    asyncio.run(main())
