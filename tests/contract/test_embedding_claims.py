"""Which updates of a store's own bot BuyerBot takes, in process: the real
embedded runtime (store, engine, sender, scheduler) on SQLite and on Redis,
sending through an aiogram Bot against the fake Bot API, fed the updates a
buyer makes there."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiogram.types import Update

from bot.api.events import OrderEvent, to_inbound
from bot.channels.telegram_send import make_bot
from bot.config import Settings
from bot.integrations.claims import ChatMode
from bot.integrations.embedded import EmbeddedBuyerBot
from dialogs.model import Ownership
from dialogs.policy import policy_from_dict
from tests.conftest import BACKENDS, fresh_store_url
from tests.e2e.agents_env import ALWAYS_OPEN, MovableClock
from tests.e2e.process import placed_event
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "123:ABC"
ANN, BOB, GROUP = 5101, 5102, -1005550001
POLICY = {**ALWAYS_OPEN, "unpaid": {"payment_help_after": "1h"}, "embedding": {"answer_window": "2h"}}


class Host:
    """The store's side: fetches updates from the fake like its own polling would."""

    def __init__(self, fake: FakeTelegram, bot: Bot, buyerbot: EmbeddedBuyerBot, clock: MovableClock) -> None:
        self.fake, self.bot, self.buyerbot, self.clock = fake, bot, buyerbot, clock
        self.offset = 0

    async def update(self) -> Update:
        (update,) = await self.bot.get_updates(offset=self.offset, timeout=1)
        self.offset = update.update_id + 1
        return update

    async def says(self, chat: int, text: str, **more: Any) -> bool:
        """True: BuyerBot took it."""
        self.fake.user_sends(chat, text, **more)
        return await self.buyerbot.feed(await self.update())

    async def presses(self, chat: int, message_id: int, data: str) -> bool:
        self.fake.user_presses(chat, message_id, data, force=True)
        return await self.buyerbot.feed(await self.update())

    async def place(self, order_id: str, **buyer: Any) -> str:
        services = self.buyerbot.services
        assert services is not None
        event = OrderEvent.model_validate(placed_event(order_id, **buyer))
        await services.runtime.submit(to_inbound(event, self.clock.now()))
        await services.runtime.idle(5)
        return await self.buyerbot.link_token(order_id)

    async def settled(self) -> None:
        assert self.buyerbot.services is not None
        await self.buyerbot.services.runtime.idle(5)


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN, rate_limits=False) as running:
        yield running


def embedded(store_url: str, clock: MovableClock) -> EmbeddedBuyerBot:
    """Settings given as a mapping over the BUYERBOT_* environment, as a store may."""
    settings = {"store_url": store_url, "agent_chat_id": GROUP, "api_token": "t" * 20}
    return EmbeddedBuyerBot(settings, policy=policy_from_dict(POLICY), clock=clock, serve_http=False)


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return fresh_store_url(request.param, request, tmp_path)


@pytest.fixture
async def host(fake: FakeTelegram, store_url: str) -> AsyncIterator[Host]:
    bot = make_bot(Settings(telegram_token=TOKEN, telegram_api_url=fake.base_url))
    clock = MovableClock()
    buyerbot = embedded(store_url, clock)
    await buyerbot.start(bot)
    yield Host(fake, bot, buyerbot, clock)
    await buyerbot.stop()
    await bot.session.close()


async def bound(host: Host, chat: int, order_id: str) -> None:
    """The buyer opened the order link and read the welcome."""
    assert await host.says(chat, f"/start {await host.place(order_id)}")
    assert "linked to your order" in ((await host.fake.anext_message(chat, 5)).text or "")


async def test_the_store_keeps_its_commands_buttons_and_strangers(host: Host) -> None:
    assert not await host.says(BOB, "/start")
    assert not await host.says(BOB, "/start catalogue-page-2")  # a payload of the store's own
    assert not await host.says(BOB, "hello")
    assert not await host.says(BOB, "8001234567")  # looks like an order number: still the store's
    assert not await host.presses(BOB, 1, "catalog:more")
    assert not await host.presses(BOB, 1, "paid_already:unpaid:X-1")  # a store's three-part data
    assert not await host.says(-1009999, "/claim")  # a group that is not the agents'
    assert await host.says(GROUP, "/help", user_id=777)  # the agents' group is BuyerBot's
    assert await host.presses(BOB, 1, "bb:paid_already:unpaid:X-1")  # BuyerBot's, even when stale
    answer = await host.fake.await_for(lambda: host.fake.callback_answers, what="the stale button answered")
    assert "no longer current" in (answer[0].text or "")
    assert host.fake.unread(BOB) == []


async def test_answers_go_to_buyerbot_while_it_waits_and_to_the_store_after(host: Host) -> None:
    await bound(host, ANN, "C-1")
    assert await host.says(ANN, "thanks!")  # BuyerBot wrote last
    assert (await host.fake.anext_message(ANN, 5)).text.startswith("You're welcome")  # type: ignore[union-attr]
    assert await host.says(ANN, "hello again")  # and wrote last again
    await host.settled()
    host.clock.advance(timedelta(hours=3))  # past the answer window
    assert not await host.says(ANN, "do you sell cables?")
    last = host.fake.messages_to(ANN)[-1]
    assert await host.says(ANN, "about this", reply_to_message_id=last.message_id)  # a reply to BuyerBot's message
    assert not await host.says(ANN, "/catalog")


async def test_a_person_owning_the_chat_gets_every_message(host: Host) -> None:
    await bound(host, ANN, "C-2")
    host.clock.advance(timedelta(hours=3))
    assert not await host.says(ANN, "hi")
    welcome = host.fake.messages_to(ANN)[0]
    assert await host.presses(ANN, welcome.message_id, welcome.button_data("Talk to a person"))
    await host.settled()
    services = host.buyerbot.services
    assert services is not None
    conversation, _ = await services.store.load("C-2")
    assert conversation is not None and conversation.ownership is Ownership.WAITING
    host.clock.advance(timedelta(hours=3))
    assert await host.says(ANN, "still there?")


async def test_hand_over_and_take_back_last_across_a_restart(host: Host, store_url: str) -> None:
    await host.buyerbot.hand_over(BOB)
    assert "order number" in ((await host.fake.anext_message(BOB, 5)).text or "")
    assert await host.says(BOB, "hello?")
    assert not await host.says(BOB, "/shop")  # the store's commands stay the store's
    await host.buyerbot.stop()
    again = embedded(store_url, host.clock)
    await again.start(host.bot)
    host.buyerbot = again
    assert await again.chat_mode(BOB) is ChatMode.BUYERBOT
    assert await host.says(BOB, "order 7")
    await again.take_back(BOB)
    assert not await host.says(BOB, "hello?")
    token = await host.place("C-3")
    assert await host.says(BOB, f"/start {token}")  # an order link makes it BuyerBot's again
    assert await again.chat_mode(BOB) is ChatMode.AUTO


async def test_an_update_delivered_twice_is_handled_once(host: Host) -> None:
    await bound(host, ANN, "C-4")
    update_id = host.fake.user_sends(ANN, "thanks!")
    update = await host.update()
    assert await host.buyerbot.feed(update)
    host.fake.redeliver(update_id)
    assert await host.buyerbot.feed(await host.update())
    await host.fake.anext_message(ANN, 5)
    await host.settled()
    assert host.fake.unread(ANN) == []
    services = host.buyerbot.services
    assert services is not None
    rows = await services.store.transcript("C-4")
    assert [e.text for _, e in rows if e.author == "buyer"].count("thanks!") == 1
