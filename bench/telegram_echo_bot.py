"""The baseline: a bare aiogram 3 echo bot (Dispatcher + one message handler
answering with the same text), long polling a (fake) Bot API server, or in
webhook mode (aiogram's own aiohttp `SimpleRequestHandler`, its defaults:
the update is handled in the background after the 200) on 127.0.0.1.

    python -m bench.telegram_echo_bot --api http://127.0.0.1:PORT --token 4242:bench-telegram-token
    python -m bench.telegram_echo_bot --api ... --token ... --webhook-port 8443 --secret s3cr3t
"""

from __future__ import annotations

import argparse
import asyncio

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

dp = Dispatcher()
WEBHOOK_PATH = "/telegram/webhook"


@dp.message()
async def echo(message: Message) -> None:
    await message.answer(message.text or "")


async def serve_webhook(bot: Bot, port: int, secret: str) -> None:
    app = web.Application()
    SimpleRequestHandler(dp, bot, secret_token=secret).register(app, path=WEBHOOK_PATH)
    setup_application(app, dp, bot=bot)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await bot.set_webhook(f"http://127.0.0.1:{port}{WEBHOOK_PATH}", secret_token=secret)
    await asyncio.Event().wait()  # until SIGTERM


async def main(api: str, token: str, webhook_port: int | None, secret: str) -> None:
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api)))
    if webhook_port is None:
        await dp.start_polling(bot, handle_signals=True)
    else:
        await serve_webhook(bot, webhook_port, secret)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--webhook-port", type=int, help="webhook mode on this port (default: long polling)")
    parser.add_argument("--secret", default="bench-webhook-secret", help="the webhook's secret token")
    args = parser.parse_args()
    asyncio.run(main(args.api, args.token, args.webhook_port, args.secret))
