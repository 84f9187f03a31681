"""BuyerBot's router in a store's aiogram bot served by webhook (aiohttp,
`SimpleRequestHandler(handle_in_background=False)`), with the fake Bot API
delivering updates (Telegram's 200 comes after the handlers, so after BuyerBot
stored what it took); the store's own router keeps answering."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiogram import Dispatcher, Router
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.api.events import OrderEvent, to_inbound
from bot.channels.telegram_send import make_bot
from bot.config import Settings
from bot.integrations.aiogram import AiogramBuyerBot, attach
from dialogs.policy import policy_from_dict
from tests.e2e.agents_env import ALWAYS_OPEN
from tests.e2e.process import free_port, placed_event
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "123:ABC"
ANN = 5301
SECRET = "hook-secret_0123456789"


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN, rate_limits=False) as running:
        yield running


@pytest.fixture
async def buyerbot(fake: FakeTelegram, tmp_path: Path) -> AsyncIterator[AiogramBuyerBot]:
    bot = make_bot(Settings(telegram_token=TOKEN, telegram_api_url=fake.base_url))
    dispatcher = Dispatcher()
    settings = {"store_url": f"sqlite:///{tmp_path}/s.sqlite3", "api_token": "t" * 20}
    attached = attach(dispatcher, settings, serve_http=False, policy=policy_from_dict(ALWAYS_OPEN))
    store = Router(name="store")

    @store.message()
    async def echo(message: Message) -> None:
        await message.answer(f"You said: {message.text}")

    dispatcher.include_router(store)
    app = web.Application()
    SimpleRequestHandler(dispatcher, bot, handle_in_background=False, secret_token=SECRET).register(app, "/hook")
    setup_application(app, dispatcher, bot=bot)  # the dispatcher's startup and shutdown: BuyerBot's too
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token=SECRET)
    yield attached
    await runner.cleanup()  # runs the shutdown: BuyerBot stops, then the bot's session closes


async def test_a_buyer_binds_through_the_webhook_and_the_store_keeps_its_echo(
    buyerbot: AiogramBuyerBot, fake: FakeTelegram
) -> None:
    assert buyerbot.services is not None
    runtime = buyerbot.services.runtime
    event = OrderEvent.model_validate(placed_event("WH-1", first_order=False))
    await runtime.submit(to_inbound(event, runtime.clock.now()))
    await runtime.idle(5)
    fake.user_sends(ANN, "hello shop")
    assert (await fake.anext_message(ANN, 10)).text == "You said: hello shop"
    fake.user_sends(ANN, f"/start {await buyerbot.link_token('WH-1')}")
    assert "linked to your order WH-1" in ((await fake.anext_message(ANN, 10)).text or "")
    assert await buyerbot.services.store.bound("telegram", str(ANN)) == ["WH-1"]
    fake.user_sends(ANN, "thanks!")  # BuyerBot wrote last: its answer, not the echo
    assert ((await fake.anext_message(ANN, 10)).text or "").startswith("You're welcome")
    await fake.await_for(lambda: not fake.pending_updates(), what="every update confirmed")
    assert fake.unread(ANN) == [] and fake.internal_errors == []
