"""The fake's webhook delivery with Telegram's max_connections (several POSTs at
once) and round-robin over several URLs, as a load balancer in front of
several bot processes would spread them."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.test_telegram_api import TOKEN, serve


class Gate:
    """Holds every POST until `width` are in at once, then lets them all through."""

    def __init__(self, width: int) -> None:
        self.width, self.now, self.peak = width, 0, 0
        self.full = asyncio.Event()
        self.seen: Counter[str] = Counter()

    async def handle(self, request: web.Request) -> web.Response:
        self.now += 1
        self.peak = max(self.peak, self.now)
        self.seen[request.host] += 1
        if self.now >= self.width:
            self.full.set()
        try:
            await asyncio.wait_for(self.full.wait(), 10)
        finally:
            self.now -= 1
        return web.json_response({})


@pytest.fixture
async def fake_and_bot() -> AsyncIterator[tuple[FakeTelegram, Bot]]:
    async with FakeTelegram(TOKEN) as fake:
        bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
        yield fake, bot
        await bot.session.close()
    assert not fake.internal_errors


async def test_max_connections_posts_at_once_spread_round_robin(fake_and_bot: tuple[FakeTelegram, Bot]) -> None:
    fake, bot = fake_and_bot
    gate = Gate(width=4)
    first, url = await serve(gate.handle)
    second, other = await serve(gate.handle)
    try:
        assert await bot.set_webhook(url, max_connections=4)
        assert (await bot.get_webhook_info()).max_connections == 4
        fake.balance_webhook([url, other])
        for k in range(12):
            fake.user_sends(90 + k % 3, f"message {k}")
        await fake.await_for(lambda: not fake.pending_updates(), timeout=15, what="every update acknowledged")
        assert gate.peak == 4, "4 POSTs at once, never more"
        assert sorted(gate.seen.values()) == [6, 6], "half to each URL"
        assert len(fake.webhook_attempts) == 12 and all(a.ok for a in fake.webhook_attempts)
    finally:
        await bot.delete_webhook()
        await first.cleanup()
        await second.cleanup()
