"""Tests of the fake Telegram Bot API server, driven by a real aiogram Bot over HTTP."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tests.fakes.telegram_api import FakeTelegram

TOKEN = "123:ABC"


def kb(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=d, callback_data=d) for d in data]])


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN) as f:
        yield f
    assert not f.internal_errors


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    b = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
    yield b
    await b.session.close()


async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == 123 and me.is_bot and me.username == "buyerbot_test_bot"


async def test_send_message_with_inline_keyboard_is_recorded(fake: FakeTelegram, bot: Bot) -> None:
    msg = await bot.send_message(42, "<b>Hi</b> &amp; welcome", parse_mode="HTML", reply_markup=kb("yes", "no"))
    assert msg.chat.id == 42 and msg.from_user and msg.from_user.is_bot
    assert msg.reply_markup and msg.reply_markup.inline_keyboard[0][1].callback_data == "no"
    [rec] = fake.messages_to(42)
    assert rec.text == "Hi & welcome" and rec.method == "sendMessage" and rec.message_id == msg.message_id
    assert rec.callback_data == ["yes", "no"] and rec.button_data("ye") == "yes"
    assert fake.next_message(42, timeout=0.1) is rec
    assert fake.unread(42) == []


async def test_get_updates_offset_semantics(fake: FakeTelegram, bot: Bot) -> None:
    ids = [fake.user_sends(7, f"m{i}") for i in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3
    first = await bot.get_updates()
    assert [u.update_id for u in first] == ids
    again = await bot.get_updates()  # nothing confirmed yet: same updates come back
    assert [u.update_id for u in again] == ids
    part = await bot.get_updates(offset=ids[1], limit=1)  # confirms ids[0] only
    assert [u.update_id for u in part] == [ids[1]]
    rest = await bot.get_updates(offset=ids[0])  # confirmed updates never come back
    assert [u.update_id for u in rest] == ids[1:]
    assert await bot.get_updates(offset=ids[2] + 1) == []
    assert fake.pending_updates() == []
    fake.redeliver(ids[1])  # redelivery keeps the update_id (dedupe tests)
    [dup] = await bot.get_updates(offset=ids[2] + 1)
    assert dup.update_id == ids[1] and dup.message and dup.message.text == "m1"
    assert await bot.get_updates(offset=ids[1] + 1) == []


async def test_long_polling_returns_promptly(fake: FakeTelegram, bot: Bot) -> None:
    threading.Timer(0.2, fake.user_sends, args=(9, "hello")).start()
    started = time.monotonic()
    updates = await bot.get_updates(timeout=10)
    assert time.monotonic() - started < 2
    assert updates and updates[0].message and updates[0].message.text == "hello"
    started = time.monotonic()
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=1) == []
    assert 0.9 < time.monotonic() - started < 3


async def test_second_poller_terminates_the_first(fake: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    second = asyncio.create_task(bot.get_updates(timeout=5))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 3)
    fake.user_sends(1, "x")
    assert len(await asyncio.wait_for(second, 3)) == 1


async def test_strict_chats_reject_unknown_chat() -> None:
    with FakeTelegram(TOKEN, strict_chats=True) as fake:
        bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
        try:
            with pytest.raises(TelegramBadRequest, match="chat not found"):
                await bot.send_message(77, "hello?")
            fake.user_sends(77, "hi")
            fake.user_sends(-1007, "group hi", user_id=5)
            await bot.send_message(77, "hello")
            await bot.send_message(-1007, "hello group")
        finally:
            await bot.session.close()


async def test_body_encodings_and_errors(fake: FakeTelegram) -> None:
    markup = json.dumps({"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]})
    async with aiohttp.ClientSession() as http:
        url = f"{fake.base_url}/bot{TOKEN}"
        async with http.post(f"{url}/sendMessage", data={"chat_id": "5", "text": "123", "reply_markup": markup}) as r:
            body = await r.json()
            assert r.status == 200 and body["result"]["text"] == "123"
            assert body["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "go"
        form = aiohttp.FormData()
        form.add_field("chat_id", "5")
        form.add_field("text", "multi")
        form.add_field("document", b"PDF", filename="a.pdf")
        async with http.post(f"{url}/sendDocument", data=form) as r:
            assert r.status == 200 and (await r.json())["result"]["document"]["file_name"] == "a.pdf"
        async with http.post(f"{url}/sendMessage", json={"chat_id": 5, "text": "json"}) as r:
            assert (await r.json())["result"]["chat"]["id"] == 5
        async with http.get(f"{url}/getMe") as r:
            assert r.status == 200
        async with http.post(f"{fake.base_url}/bot1:WRONG/getMe") as r:
            assert r.status == 401 and await r.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with http.post(f"{url}/noSuchMethod") as r:
            assert r.status == 404 and (await r.json())["description"] == "Not Found"
    assert [m.text for m in fake.messages_to(5)] == ["123", None, "json"]
    assert fake.requests_by_method["sendMessage"] == 2


async def test_text_length_and_markup_validation(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(1, "x" * 4096)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(2, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(2, "<b></b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(2, "<div>x</div>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="reserved"):
        await bot.send_message(2, "Price: 5.00", parse_mode="MarkdownV2")
    await bot.send_message(3, "д" * 32, reply_markup=kb("д" * 32))  # 64 bytes is fine
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(3, "too big", reply_markup=kb("x" * 65))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(3, "multibyte", reply_markup=kb("д" * 33))
    assert len(fake.sent) == 2


async def test_rate_limit_per_chat_gives_429(fake: FakeTelegram, bot: Bot) -> None:
    for i in range(3):
        await bot.send_message(10, f"burst {i}")
    with pytest.raises(TelegramRetryAfter) as err:
        await bot.send_message(10, "one too many")
    assert err.value.retry_after >= 1 and fake.count_429 == 1
    await bot.send_message(11, "other chats are not limited")
    fake.set_rate_limits(False)
    await bot.send_message(10, "limits off")
    assert len(fake.messages_to(10)) == 4


async def test_group_and_global_limits() -> None:
    with FakeTelegram(TOKEN, per_chat_burst=100, global_burst=5, group_per_minute=2) as fake:
        bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
        try:
            for _ in range(2):
                await bot.send_message(-1001, "group")
            with pytest.raises(TelegramRetryAfter):
                await bot.send_message(-1001, "group limit")
            for chat in (1, 2, 3):
                await bot.send_message(chat, "private")
            with pytest.raises(TelegramRetryAfter):
                await bot.send_message(4, "global limit")
            assert fake.count_429 == 2
        finally:
            await bot.session.close()


async def test_injected_failures_and_blocked_chat(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", status=500)
    with pytest.raises(TelegramServerError):
        await bot.send_message(20, "boom")
    fake.fail_next("*", status=502, times=2)
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.get_me()
    await bot.send_message(20, "recovered")
    fake.block_chat(21)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(21, "hi")
    fake.unblock_chat(21)
    await bot.send_message(21, "hi again")
    fake.add_latency(0.3)
    started = time.monotonic()
    await bot.get_me()
    assert time.monotonic() - started >= 0.3
    assert [m.text for m in fake.sent] == ["recovered", "hi again"]


async def test_callback_query_answer_once_and_edits(fake: FakeTelegram, bot: Bot) -> None:
    msg = await bot.send_message(30, "Pick", reply_markup=kb("a", "b"))
    with pytest.raises(ValueError):
        fake.user_presses(30, msg.message_id, "zzz")
    qid = fake.user_presses(30, msg.message_id, "b")
    [upd] = await bot.get_updates()
    assert upd.callback_query and upd.callback_query.id == qid and upd.callback_query.data == "b"
    assert await bot.answer_callback_query(qid, text="ok")
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_callback_query(qid)
    assert fake.answer_for(qid) and fake.callback_answers[0].text == "ok"
    await bot.edit_message_reply_markup(chat_id=30, message_id=msg.message_id, reply_markup=None)
    with pytest.raises(TelegramBadRequest, match="not modified"):
        await bot.edit_message_reply_markup(chat_id=30, message_id=msg.message_id, reply_markup=None)
    edited = await bot.edit_message_text("Picked b", chat_id=30, message_id=msg.message_id)
    assert isinstance(edited, Message) and edited.text == "Picked b"
    assert (fake.current_message(30, msg.message_id) or {})["text"] == "Picked b"
    assert [e.method for e in fake.edits] == ["editMessageReplyMarkup", "editMessageText"]


async def test_media_files_forward_and_copy(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_sends_photo(40, "BUYER-PHOTO", caption="broken item", content=b"JPEGDATA")
    [upd] = await bot.get_updates()
    assert upd.message and upd.message.photo and upd.message.photo[-1].file_id == "BUYER-PHOTO"
    file = await bot.get_file("BUYER-PHOTO")
    assert file.file_path
    data = await bot.download_file(file.file_path)
    assert data is not None and data.read() == b"JPEGDATA"
    await bot.send_photo(40, "BUYER-PHOTO", caption="got it")
    uploaded = await bot.send_video(40, BufferedInputFile(b"MP4", filename="v.mp4"))
    assert uploaded.video and (await bot.get_file(uploaded.video.file_id)).file_path
    await bot.forward_message(-1005, from_chat_id=40, message_id=upd.message.message_id)
    copied = await bot.copy_message(41, from_chat_id=40, message_id=upd.message.message_id, caption="copy")
    assert copied.message_id == 1
    assert [(m.method, m.media_type) for m in fake.sent] == [
        ("sendPhoto", "photo"),
        ("sendVideo", "video"),
        ("forwardMessage", "photo"),
        ("copyMessage", "photo"),
    ]
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")


async def test_forum_topics(fake: FakeTelegram, bot: Bot) -> None:
    group = -1001234
    topic = await bot.create_forum_topic(group, "Order #1 — Ann")
    assert topic.message_thread_id > 0 and topic.name == "Order #1 — Ann"
    sent = await bot.send_message(group, "new buyer", message_thread_id=topic.message_thread_id)
    assert sent.message_thread_id == topic.message_thread_id and sent.is_topic_message
    assert [m.text for m in fake.messages_to(group, thread_id=topic.message_thread_id)] == ["new buyer"]
    fake.user_sends(group, "agent reply", user_id=555, message_thread_id=topic.message_thread_id)
    [upd] = await bot.get_updates()
    assert upd.message and upd.message.chat.type == "supergroup" and upd.message.chat.is_forum
    assert upd.message.message_thread_id == topic.message_thread_id and upd.message.from_user
    assert upd.message.from_user.id == 555
    assert await bot.edit_forum_topic(group, topic.message_thread_id, name="Order #1 — closed")
    assert await bot.close_forum_topic(group, topic.message_thread_id)
    assert await bot.delete_forum_topic(group, topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(group, "late", message_thread_id=topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(group, "never existed", message_thread_id=999)


async def test_commands_chat_and_sync_wait(fake: FakeTelegram, bot: Bot) -> None:
    from aiogram.types import BotCommand

    assert await bot.set_my_commands([BotCommand(command="start", description="Start")])
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert await bot.delete_my_commands()
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])
    fake.user_sends(50, "hi", first_name="Bob")
    assert (await bot.get_chat(50)).first_name == "Bob"
    got: list[str | None] = []
    waiter = threading.Thread(target=lambda: got.extend(m.text for m in fake.wait_for_messages(50, 2, timeout=3)))
    waiter.start()
    await bot.send_message(50, "one")
    await bot.send_message(50, "two")
    await asyncio.to_thread(waiter.join, 3)
    assert got == ["one", "two"]
    with pytest.raises(TimeoutError):
        await fake.anext_message(50, timeout=0.1)


async def test_polling_dispatcher_end_to_end(fake: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    task = asyncio.create_task(dp.start_polling(bot, polling_timeout=1, handle_signals=False, close_bot_session=False))
    try:
        fake.user_sends(60, "ping")
        reply = await fake.anext_message(60, timeout=5)
        assert reply.text == "echo: ping"
        await fake.await_for(lambda: not fake.pending_updates(), timeout=3, what="confirmed")
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(task, 5)


class Receiver:
    """A tiny webhook receiver: fails the first `fail` requests with 500."""

    def __init__(self, fail: int) -> None:
        self.fail = fail
        self.seen: list[tuple[int, str | None]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.seen.append((body["update_id"], request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        if len(self.seen) <= self.fail:
            return web.Response(status=500)
        return web.json_response({})


async def serve(handler: web.StreamResponse | object) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/hook", handler)  # type: ignore[arg-type]
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/hook"


async def test_webhook_delivery_with_secret_and_retry(fake: FakeTelegram, bot: Bot) -> None:
    receiver = Receiver(fail=1)
    runner, url = await serve(receiver.handle)
    try:
        uid = fake.user_sends(70, "early")  # queued before the webhook exists
        assert await bot.set_webhook(url, secret_token="s3cr3t")
        with pytest.raises(TelegramConflictError):
            await bot.get_updates()
        uid2 = fake.user_sends(70, "second")
        # the fake records an attempt once the receiver's answer is in: wait for both sides
        await fake.await_for(lambda: len(receiver.seen) >= 3 and len(fake.webhook_attempts) >= 3, timeout=10,
                             what="webhook deliveries")  # fmt: skip
        assert receiver.seen == [(uid, "s3cr3t"), (uid, "s3cr3t"), (uid2, "s3cr3t")]
        assert [a.ok for a in fake.webhook_attempts] == [False, True, True]
        info = await bot.get_webhook_info()
        assert info.url == url and info.pending_update_count == 0 and info.last_error_message
        assert await bot.delete_webhook()
        fake.user_sends(70, "polling again")
        assert len(await bot.get_updates()) == 1
    finally:
        await runner.cleanup()


async def test_webhook_with_aiogram_handler_replying_in_response(fake: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> object:
        return message.answer(f"echo: {message.text}")  # returned method goes in the webhook response

    handler = SimpleRequestHandler(dp, bot, handle_in_background=False, secret_token="tok")
    runner, url = await serve(handler.handle)
    try:
        await bot.set_webhook(url, secret_token="tok")
        fake.user_sends(80, "hi")
        assert (await fake.anext_message(80, timeout=5)).text == "echo: hi"
        await bot.set_webhook(url, secret_token="wrong")  # aiogram answers 401 -> kept and retried
        fake.user_sends(80, "again")
        await fake.await_for(lambda: len(fake.webhook_attempts) >= 3, timeout=3, what="retries")
        assert not fake.webhook_attempts[-1].ok and fake.pending_updates()
    finally:
        await bot.delete_webhook()
        await runner.cleanup()
