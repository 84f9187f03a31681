"""The baseline: a bare aiogram 3 echo bot (Dispatcher + one message handler
answering with the same text), long polling a (fake) Bot API server.

    python -m bench.telegram_echo_bot --api http://127.0.0.1:PORT --token 4242:bench-telegram-token
"""

from __future__ import annotations

import argparse
import asyncio

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

dp = Dispatcher()


@dp.message()
async def echo(message: Message) -> None:
    await message.answer(message.text or "")


async def main(api: str, token: str) -> None:
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api)))
    await dp.start_polling(bot, handle_signals=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api", required=True)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    asyncio.run(main(args.api, args.token))
