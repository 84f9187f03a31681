"""BuyerBot sending through a python-telegram-bot `Bot`, against the fake Bot
API: what goes on the wire, that the host's rate limiter sees every call, how
PTB's errors reach the sender, and PTB's updates read as aiogram's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from telegram.ext import BaseRateLimiter, ExtBot

from bot.channels.telegram_send import TelegramChannel
from bot.integrations.ptb import sending_bot, to_aiogram_update
from dialogs.ports import RenderedMessage
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "123:ABC"
BUYER, GROUP = 5201, -1005550002


class CountingLimiter(BaseRateLimiter[dict[str, Any]]):
    """The store's own rate limiter, as PTB calls it."""

    def __init__(self) -> None:
        self.chats: list[Any] = []

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(  # type: ignore[override]
        self, callback: Any, args: Any, kwargs: Any, endpoint: str, data: dict[str, Any], rate_limit_args: Any
    ) -> Any:
        self.chats.append(data.get("chat_id"))
        return await callback(*args, **kwargs)


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN, rate_limits=False) as running:
        yield running


@pytest.fixture
async def ptb_bot(fake: FakeTelegram) -> AsyncIterator[ExtBot[Any]]:
    bot: ExtBot[Any] = ExtBot(TOKEN, base_url=f"{fake.base_url}/bot", rate_limiter=CountingLimiter())
    await bot.initialize()
    yield bot
    await bot.shutdown()


@pytest.fixture
def channel(ptb_bot: ExtBot[Any]) -> TelegramChannel:
    return TelegramChannel(sending_bot(ptb_bot))


async def test_a_message_goes_out_through_the_hosts_bot_and_its_rate_limiter(
    channel: TelegramChannel, ptb_bot: ExtBot[Any], fake: FakeTelegram
) -> None:
    buttons = (("paid_already:unpaid:A-1", "I've paid", None), ("help:unpaid:A-1", "Help", "https://ex.com/h"))
    result = await channel.send(str(BUYER), RenderedMessage("Total: *5* <b>USD</b>", buttons, "m1"))
    assert result.ok and result.channel_message_id == f"{BUYER}:1"
    sent = fake.messages_to(BUYER)[0]
    assert sent.text == "Total: *5* <b>USD</b>" and sent.parse_mode is None
    assert sent.reply_markup == {"inline_keyboard": [
        [{"text": "I've paid", "callback_data": "bb:paid_already:unpaid:A-1"}],
        [{"text": "Help", "url": "https://ex.com/h"}],
    ]}  # fmt: skip
    limiter = ptb_bot.rate_limiter
    assert isinstance(limiter, CountingLimiter) and str(BUYER) in [str(c) for c in limiter.chats]


@pytest.mark.parametrize(
    ("status", "permanent", "retry_after"),
    [(429, False, 2.0), (403, True, None), (400, True, None), (500, False, None), (502, False, None)],
)
async def test_ptb_errors_mean_the_same_to_the_sender(
    channel: TelegramChannel, fake: FakeTelegram, status: int, permanent: bool, retry_after: float | None
) -> None:
    fake.fail_next("sendMessage", status, retry_after=2)
    result = await channel.send(str(BUYER), RenderedMessage("hi", (), "m2"))
    assert not result.ok and result.permanent is permanent and result.retry_after == retry_after
    assert (await channel.send(str(BUYER), RenderedMessage("hi", (), "m3"))).ok


async def test_forum_topics_for_the_agents_group(ptb_bot: ExtBot[Any], fake: FakeTelegram) -> None:
    bot = sending_bot(ptb_bot)
    topic = await bot.create_forum_topic(GROUP, "Ann · A-1 · asked")
    await bot.send_message(GROUP, "card", message_thread_id=topic.message_thread_id)
    assert (fake.topic(GROUP, topic.message_thread_id) or {}).get("name") == "Ann · A-1 · asked"
    assert [m.text for m in fake.messages_to(GROUP, thread_id=topic.message_thread_id)] == ["card"]


async def test_ptb_updates_read_as_aiogram_updates(ptb_bot: ExtBot[Any], fake: FakeTelegram) -> None:
    fake.user_sends(BUYER, "/start tok-12345678", language_code="pt")
    await channel_message(ptb_bot)
    fake.user_presses(BUYER, fake.messages_to(BUYER)[0].message_id, "bb:paid_already:unpaid:A-1")
    message_update, query_update = await ptb_bot.get_updates(timeout=1)
    bot = sending_bot(ptb_bot)
    message = to_aiogram_update(message_update, bot).message
    assert message is not None and message.text == "/start tok-12345678" and message.chat.type == "private"
    assert message.from_user is not None and message.from_user.language_code == "pt"
    query = to_aiogram_update(query_update, bot).callback_query
    assert query is not None and query.data == "bb:paid_already:unpaid:A-1" and query.from_user.id == BUYER
    assert query.message is not None and query.message.chat.id == BUYER


async def channel_message(ptb_bot: ExtBot[Any]) -> None:
    """A message with BuyerBot's button in the buyer's chat."""
    buttons = (("paid_already:unpaid:A-1", "I've paid", None),)
    assert (await TelegramChannel(sending_bot(ptb_bot)).send(str(BUYER), RenderedMessage("Paid?", buttons, "m"))).ok
