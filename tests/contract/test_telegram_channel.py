"""The Telegram channel against the fake Bot API, in process: what a send puts
on the wire, how errors map, and what each kind of update becomes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiogram.types import Update
from fastapi import FastAPI

from bot.api.events import OrderEvent, to_inbound
from bot.app import all_dialogs
from bot.channels.telegram import TelegramDoor, bot_username
from bot.channels.telegram_binding import parse_amount
from bot.channels.telegram_send import TelegramChannel, make_bot
from bot.config import ROOT, Settings
from bot.runtime import Runtime
from bot.storage import open_store
from dialogs.engine import DialogEngine
from dialogs.model import Inbound
from dialogs.policy import load_policy
from dialogs.ports import RenderedMessage, SystemClock
from tests.e2e.process import placed_event
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "123:ABC"
SECRET = "s3cret-token_for-tests"
BUYER = 5001


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN, rate_limits=False) as running:
        yield running


def settings_for(fake: FakeTelegram, tmp_path: Path, **more: Any) -> Settings:
    return Settings(
        telegram_token=TOKEN, telegram_api_url=fake.base_url, store_url=f"sqlite:///{tmp_path}/s.sqlite3", **more
    )


@pytest.fixture
async def channel(fake: FakeTelegram, tmp_path: Path) -> AsyncIterator[TelegramChannel]:
    bot = make_bot(settings_for(fake, tmp_path))
    yield TelegramChannel(bot)
    await bot.session.close()


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    """Accepts Inbounds into the store's inbox but runs no workers: the tests read the inbox."""
    store = await open_store(f"sqlite:///{tmp_path}/s.sqlite3")
    clock = SystemClock()
    yield Runtime(store, DialogEngine(all_dialogs(), load_policy(ROOT / "policy.toml"), clock), clock)
    await store.close()


@pytest.fixture
async def door(fake: FakeTelegram, tmp_path: Path, runtime: Runtime) -> AsyncIterator[TelegramDoor]:
    polling = TelegramDoor(settings_for(fake, tmp_path), runtime, poll_timeout=1)
    await polling.start()
    yield polling
    await polling.stop()


async def place(runtime: Runtime, order_id: str, **buyer: Any) -> str:
    """The order as the store reported it; returns its deep-link token."""
    event = OrderEvent.model_validate(placed_event(order_id, **buyer))
    await runtime.engine.handle(runtime.store, to_inbound(event, datetime.now(UTC)))
    return await runtime.ensure_link_token(order_id)


async def accepted(runtime: Runtime, n: int = 1, timeout: float = 5) -> list[Inbound]:
    for _ in range(int(timeout * 20)):
        found = [i for i in await runtime.store.pending_inbound() if i.source_id.startswith("tg:")]
        if len(found) >= n:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {n} accepted Telegram inbound(s), got {found}")


# -- sending ---------------------------------------------------------------------------------
async def test_plain_text_with_one_button_per_row(channel: TelegramChannel, fake: FakeTelegram) -> None:
    buttons = (("paid_already:unpaid:A-1", "I've paid", None), ("help:unpaid:A-1", "Help", "https://ex.com/h"))
    result = await channel.send(str(BUYER), RenderedMessage("Total: *5* <b>USD</b>", buttons, "m1"))
    assert result.ok and result.channel_message_id == f"{BUYER}:1"
    sent = fake.messages_to(BUYER)[0]
    assert sent.text == "Total: *5* <b>USD</b>" and sent.parse_mode is None
    assert sent.reply_markup == {"inline_keyboard": [
        [{"text": "I've paid", "callback_data": "bb:paid_already:unpaid:A-1"}],
        [{"text": "Help", "url": "https://ex.com/h"}],
    ]}  # fmt: skip


async def test_a_long_text_goes_in_parts_with_the_keyboard_on_the_last(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    text = "\n\n".join(f"Paragraph {i}: " + "word " * 300 for i in range(7))
    await channel.send(str(BUYER), RenderedMessage(text, (("ok:unpaid:A-1", "OK", None),), "m2"))
    parts = fake.messages_to(BUYER)
    assert len(parts) == 3 and all(len(p.text or "") <= 4096 for p in parts)
    assert [p.reply_markup is not None for p in parts] == [False, False, True]
    assert " ".join(p.text or "" for p in parts).split() == text.split()


async def test_the_same_channel_resumes_where_it_stopped(tmp_path: Path) -> None:
    with FakeTelegram(TOKEN, per_chat_burst=1, per_chat_rate=1.0) as limited:
        bot = make_bot(settings_for(limited, tmp_path))
        channel = TelegramChannel(bot)
        message = RenderedMessage("a " * 3000 + "\n\n" + "b " * 1000, (), "m4")
        try:
            first = await channel.send(str(BUYER), message)
            assert first.retry_after is not None
            await asyncio.sleep(first.retry_after + 0.1)
            second = await channel.send(str(BUYER), message)
        finally:
            await bot.session.close()
    texts = [m.text or "" for m in limited.messages_to(BUYER)]
    assert second.ok and len(texts) == 2 and " ".join(texts).split() == message.text.split()


@pytest.mark.parametrize(
    ("status", "description", "expect"),
    [
        (429, None, {"retry_after": 3.0, "permanent": False}),
        (403, "Forbidden: bot was blocked by the user", {"retry_after": None, "permanent": True}),
        (400, "Bad Request: chat not found", {"retry_after": None, "permanent": True}),
        (400, "Bad Request: can't parse reply markup", {"retry_after": None, "permanent": True}),
        (500, None, {"retry_after": None, "permanent": False}),
        (502, None, {"retry_after": None, "permanent": False}),
    ],
)
async def test_errors_map_to_what_the_sender_must_do(
    channel: TelegramChannel, fake: FakeTelegram, status: int, description: str | None, expect: dict[str, Any]
) -> None:
    fake.fail_next("sendMessage", status, description=description, retry_after=3)
    result = await channel.send(str(BUYER), RenderedMessage("hi", (), f"e{status}"))
    assert not result.ok and result.error
    assert {"retry_after": result.retry_after, "permanent": result.permanent} == expect


async def test_an_unreachable_api_is_retryable(tmp_path: Path) -> None:
    settings = Settings(telegram_token=TOKEN, telegram_api_url="http://127.0.0.1:9", store_url="sqlite:///x")
    bot = make_bot(settings)
    try:
        result = await TelegramChannel(bot).send(str(BUYER), RenderedMessage("hi", (), "n1"))
    finally:
        await bot.session.close()
    assert not result.ok and not result.permanent and result.retry_after is None


# -- intake ----------------------------------------------------------------------------------
async def test_start_with_a_token_binds_the_chat(door: TelegramDoor, fake: FakeTelegram, runtime: Runtime) -> None:
    token = await place(runtime, "T-1")
    update_id = fake.user_sends(BUYER, f"/start {token}", language_code="es")
    (inbound,) = await accepted(runtime)
    assert (inbound.conversation_id, inbound.trigger, inbound.source_id) == ("T-1", "buyer_bound", f"tg:{update_id}")
    assert inbound.payload == {"channel": "telegram", "address": str(BUYER), "language_code": "es", "user_id": BUYER}
    assert await runtime.store.bound("telegram", str(BUYER)) == ["T-1"]


async def test_text_goes_to_the_latest_bound_order(door: TelegramDoor, fake: FakeTelegram, runtime: Runtime) -> None:
    for order_id in ("T-2", "T-3"):
        await place(runtime, order_id)
        await runtime.store.bind("telegram", str(BUYER), order_id)
    fake.user_sends(BUYER, "where is my parcel? https://track.example/abc")
    (inbound,) = await accepted(runtime)
    assert (inbound.conversation_id, inbound.trigger) == ("T-3", "buyer_message")
    assert inbound.payload["text"] == "where is my parcel? https://track.example/abc"
    assert inbound.payload["media"] == [{"kind": "link", "url": "https://track.example/abc"}]


async def test_media_becomes_evidence(runtime: Runtime, door: TelegramDoor) -> None:
    await place(runtime, "T-4")
    await runtime.store.bind("telegram", str(BUYER), "T-4")
    chat = {"id": BUYER, "type": "private", "first_name": "Ann"}
    base = {"chat": chat, "date": 1, "from": {"id": BUYER, "is_bot": False, "first_name": "Ann"}}
    note = {"file_id": "VN", "file_unique_id": "vn", "length": 1, "duration": 3}
    document = {"file_id": "D", "file_unique_id": "d", "mime_type": "video/quicktime"}
    sizes = [{"file_id": f"P{w}", "file_unique_id": f"u{w}", "width": w, "height": w} for w in (90, 1280, 320)]
    updates = [
        {"update_id": 901, "message": {**base, "message_id": 1, "photo": sizes, "caption": "the box"}},
        {"update_id": 902, "message": {**base, "message_id": 2, "video_note": note}},
        {"update_id": 903, "message": {**base, "message_id": 3, "document": document}},
    ]
    for update in updates:
        await door.intake.handle(Update.model_validate(update))
    photo, note, document = (i.payload for i in await accepted(runtime, 3))
    assert photo["text"] == "the box" and photo["media"] == [
        {"kind": "photo", "file_id": "P1280", "mime_type": "image/jpeg"}
    ]
    assert note["media"] == [{"kind": "video", "file_id": "VN", "mime_type": "video/mp4"}]
    assert document["media"] == [{"kind": "document", "file_id": "D", "mime_type": "video/quicktime"}]


async def test_a_button_is_accepted_then_answered(door: TelegramDoor, fake: FakeTelegram, runtime: Runtime) -> None:
    await place(runtime, "T-5")
    await runtime.store.bind("telegram", str(BUYER), "T-5")
    await door.channel.send(str(BUYER), RenderedMessage("Paid?", (("paid_already:unpaid:T-5", "I've paid", None),)))
    query_id = fake.user_presses(BUYER, 1, "bb:paid_already:unpaid:T-5")
    (inbound,) = await accepted(runtime)
    assert inbound.trigger == "button_pressed" and inbound.conversation_id == "T-5"
    assert {k: inbound.payload[k] for k in ("action", "dialog", "callback_query_id")} == {
        "action": "paid_already", "dialog": "unpaid", "callback_query_id": query_id}  # fmt: skip
    answer = await fake.await_for(lambda: fake.answer_for(query_id), what="callback answered")
    assert answer.text is None


async def test_a_button_of_an_order_not_bound_here_is_only_answered(
    door: TelegramDoor, fake: FakeTelegram, runtime: Runtime
) -> None:
    await place(runtime, "T-6")
    query_id = fake.user_presses(BUYER, 1, "paid_already:unpaid:T-6", force=True)
    answer = await fake.await_for(lambda: fake.answer_for(query_id), what="callback answered")
    assert "no longer current" in (answer.text or "")
    assert await runtime.store.pending_inbound() == []


async def test_bad_start_and_strangers_get_help_and_no_order(
    door: TelegramDoor, fake: FakeTelegram, runtime: Runtime
) -> None:
    await place(runtime, "T-7")
    fake.user_sends(BUYER, "/start not-a-real-token")
    fake.user_sends(BUYER, "hello?")
    texts = [m.text or "" for m in await fake.await_messages(BUYER, 2)]
    assert all("link" in t and "T-7" not in t and "Solar" not in t for t in texts)
    assert await runtime.store.pending_inbound() == []


async def test_order_number_and_a_non_public_fact_bind_after_wrong_tries(
    door: TelegramDoor, fake: FakeTelegram, runtime: Runtime
) -> None:
    await place(runtime, "T-8", phone="+34 600 111 2233")  # total 20.0 USD
    fake.user_sends(BUYER, "my order is T-8")
    assert "last 4 digits" in ((await fake.anext_message(BUYER)).text or "")
    fake.user_sends(BUYER, "20.00")  # the total is public: never enough
    assert "couldn't confirm" in ((await fake.anext_message(BUYER)).text or "")
    fake.user_sends(BUYER, "T-8")
    await fake.anext_message(BUYER)
    fake.user_sends(BUYER, "2233")
    await fake.await_for(lambda: not fake.pending_updates(), what="confirmed")
    (inbound,) = await runtime.store.pending_inbound()
    assert (inbound.conversation_id, inbound.trigger, inbound.payload["via"]) == ("T-8", "buyer_bound", "order_number")


async def test_an_unknown_number_reads_exactly_like_a_known_one_and_tries_run_out(
    door: TelegramDoor, fake: FakeTelegram, runtime: Runtime
) -> None:
    await place(runtime, "T-9")
    replies = []
    for number in ("T-9", "NOPE-404", "T-9"):
        fake.user_sends(BUYER + 1, number)
        replies.append((await fake.anext_message(BUYER + 1)).text)
        fake.user_sends(BUYER + 1, "1")
        replies.append((await fake.anext_message(BUYER + 1)).text)
    assert replies[0] == replies[2] and replies[1] != replies[3]  # only the tries-left line differs
    assert "too many tries" in (replies[5] or "")
    fake.user_sends(BUYER + 1, "T-9")
    assert "too many tries" in ((await fake.anext_message(BUYER + 1)).text or "")
    fake.user_sends(BUYER + 1, "20")
    await fake.anext_message(BUYER + 1)
    assert await runtime.store.bound("telegram", str(BUYER + 1)) == []


async def test_group_messages_are_not_buyers(door: TelegramDoor, fake: FakeTelegram, runtime: Runtime) -> None:
    fake.user_sends(-100777, "hi bot")
    await fake.await_for(lambda: not fake.pending_updates(), what="confirmed")
    assert await runtime.store.pending_inbound() == [] and fake.messages_to(-100777) == []


async def test_an_update_is_confirmed_only_after_it_was_accepted(
    door: TelegramDoor, fake: FakeTelegram, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    await place(runtime, "T-10")
    await runtime.store.bind("telegram", str(BUYER), "T-10")
    real_submit, failures = runtime.submit, [1, 2]

    async def flaky_submit(inbound: Inbound) -> bool:
        if failures:
            failures.pop()
            raise ConnectionError("store unavailable")
        return await real_submit(inbound)

    monkeypatch.setattr(runtime, "submit", flaky_submit)
    fake.user_sends(BUYER, "hello")
    await asyncio.sleep(0.5)
    assert len(fake.pending_updates()) == 1  # not confirmed while the store refuses it
    (inbound,) = await accepted(runtime, timeout=8)
    assert inbound.payload["text"] == "hello"
    await fake.await_for(lambda: not fake.pending_updates(), what="confirmed")


async def test_a_batch_keeps_each_chats_order_and_is_confirmed_whole(
    fake: FakeTelegram, tmp_path: Path, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Updates fetched together are handled chat by chat side by side: each
    chat's in the order sent; one refused update gets the batch fetched again,
    and what was accepted the first time is not accepted twice."""
    chats = {BUYER: "T-20", BUYER + 1: "T-21"}
    for chat, order_id in chats.items():
        await place(runtime, order_id)
        await runtime.store.bind("telegram", str(chat), order_id)
    for n in range(1, 4):
        for chat in chats:
            fake.user_sends(chat, f"{chat} says {n}")
    real_submit, refused = runtime.submit, []

    async def refuse_once(inbound: Inbound) -> bool:
        if inbound.payload.get("text") == f"{BUYER + 1} says 2" and not refused:
            refused.append(inbound.source_id)
            raise ConnectionError("store unavailable")
        return await real_submit(inbound)

    monkeypatch.setattr(runtime, "submit", refuse_once)
    door = TelegramDoor(settings_for(fake, tmp_path), runtime, poll_timeout=1)
    await door.start()
    try:
        found = await accepted(runtime, n=6, timeout=8)
        await fake.await_for(lambda: not fake.pending_updates(), what="confirmed")
    finally:
        await door.stop()
    assert refused, "the refusal happened"
    assert len({i.source_id for i in found}) == len(found) == 6, "each accepted once"
    for chat, order_id in chats.items():
        texts = [i.payload["text"] for i in found if i.conversation_id == order_id]
        assert texts == [f"{chat} says {n}" for n in range(1, 4)]


# -- webhook ---------------------------------------------------------------------------------
async def test_the_webhook_checks_the_secret_and_the_body(fake: FakeTelegram, tmp_path: Path, runtime: Runtime) -> None:
    hook = "http://127.0.0.1:1/telegram/webhook"
    settings = settings_for(
        fake, tmp_path, telegram_mode="webhook", telegram_webhook_url=hook, telegram_webhook_secret=SECRET
    )
    door = TelegramDoor(settings, runtime)
    assert door.router is not None
    await place(runtime, "T-11")
    await runtime.store.bind("telegram", str(BUYER), "T-11")
    update = {"update_id": 77, "message": {"message_id": 1, "date": 1, "text": "hi",
                                           "chat": {"id": BUYER, "type": "private"}}}  # fmt: skip
    app = FastAPI()
    app.include_router(door.router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot") as client:
        url, good = "/telegram/webhook", {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        assert (await client.post(url, json=update)).status_code == 401
        wrong = {"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"}
        assert (await client.post(url, json=update, headers=wrong)).status_code == 401
        assert await runtime.store.pending_inbound() == []
        malformed = await client.post(url, content=b"{not json", headers=good)
        assert malformed.status_code == 400 and "not a Telegram update" in malformed.json()["detail"]
        assert (await client.post(url, json=update, headers=good)).status_code == 200
        assert (await client.post(url, json=update, headers=good)).status_code == 200  # redelivered
    (inbound,) = await accepted(runtime)
    assert inbound.source_id == "tg:77"
    await door.bot.session.close()


def test_amounts_are_read_like_people_write_them() -> None:
    readings = {t: parse_amount(t) for t in ("25", "25.00", "25,00", "$25", "25 USD", "USD 1,234.50", "1 234,50", "no")}
    assert [str(v) if v is not None else None for v in readings.values()] == [
        "25", "25.00", "25.00", "25", "25", "1234.50", "1234.50", None]  # fmt: skip


async def test_bot_username_comes_from_get_me(fake: FakeTelegram, tmp_path: Path) -> None:
    assert await bot_username(settings_for(fake, tmp_path)) == "buyerbot_test_bot"
