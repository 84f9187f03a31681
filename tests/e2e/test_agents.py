"""The agents' side of the hand-off end to end, in-process: the real services
(store, engine, runtime, sender, scheduler, Telegram door polling the fake Bot
API) with an AgentDesk wired as the lead wires it; a buyer in a private chat
and agents in a forum group, both driven through the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from bot.accounts import Role, User, hash_password
from bot.api.console_setup import mount_console
from dialogs.model import Commit, Ownership
from tests.e2e.agents_env import (
    ALWAYS_OPEN,
    GROUP,
    SECOND_AGENT,
    STRANGER,
    DeskEnv,
    MovableClock,
    eventually,
    start_env,
)
from tests.fakes.telegram_api import FakeTelegram

BUYER = 5001
CONSOLE_TOKEN = "console-token-0123456789"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token="123:ABC", rate_limits=False) as api:
        yield api


@pytest.fixture
async def env(tmp_path: Path, fake: FakeTelegram) -> AsyncIterator[DeskEnv]:
    started = await start_env(tmp_path, fake)
    yield started
    await started.services.close()


async def escalate(env: DeskEnv, order_id: str, chat_id: int = BUYER, **buyer: object) -> int:
    await env.place(order_id, chat_id, **buyer)
    env.fake.user_sends(chat_id, "I want to talk to a person")
    handoff = await env.fake.anext_message(chat_id)
    assert "passing your chat" in (handoff.text or "")
    return await env.topic(order_id)


def general_topic(fake: FakeTelegram) -> list[str]:
    return [m.text or "" for m in fake.messages_to(GROUP) if m.message_thread_id is None]


async def test_claim_reply_done_and_the_dialog_resumes(env: DeskEnv) -> None:
    fake = env.fake
    thread = await escalate(env, "A-1")
    assert (fake.topic(GROUP, thread) or {}).get("name") == "Ann · A-1 · asked"
    card = (await env.in_topic(thread))[0].text or ""
    assert "Order A-1" in card and "Why: asked" in card and "Solar lamp" in card
    assert "Total: $20.00" in card and "Solar lamp ($20.00)" in card  # amounts as Babel writes them, not "20.0 USD"
    assert "I want to talk to a person" in card and "/claim" in card

    env.agent_says(thread, "/claim")
    assert "took this chat" in ((await env.in_topic(thread))[0].text or "")
    await env.services.runtime.idle(5)  # the ack follows acceptance; the commit may still be running
    assert (await env.conversation("A-1")).ownership is Ownership.AGENT

    fake.user_sends(BUYER, "hello? anyone?")
    assert (await env.in_topic(thread))[0].text == "👤 Buyer: hello? anyone?"
    env.agent_says(thread, "Hi Ann, I'm Kim from the store. Let me check.")
    assert (await fake.anext_message(BUYER)).text == "Hi Ann, I'm Kim from the store. Let me check."

    env.agent_says(thread, "/note she sounds upset")
    env.agent_says(thread, "/done", user_id=STRANGER)  # not an agent: nothing happens
    assert "Note saved" in ((await env.in_topic(thread))[0].text or "")
    await env.settle()
    assert (await env.conversation("A-1")).ownership is Ownership.AGENT
    assert fake.unread(BUYER) == []  # neither the note nor a bot reply reached the buyer
    rows = await env.services.store.transcript("A-1")
    assert any(e.author == "note" and e.text == "she sounds upset" for _, e in rows)

    env.agent_says(thread, "/done", user_id=SECOND_AGENT)
    assert "Handed back" in ((await env.in_topic(thread))[0].text or "")
    await env.services.runtime.idle(5)
    assert (await env.conversation("A-1")).ownership is Ownership.BOT
    resumed = await fake.anext_message(BUYER, timeout=6)  # the paused payment help, no survey
    assert "Thank you for choosing our store" in (resumed.text or "")


async def test_offer_refund_date_help_and_other_chats(env: DeskEnv) -> None:
    thread = await escalate(env, "A-2")
    await env.in_topic(thread)  # the card
    env.agent_says(thread, "/offer 50%")
    assert "between 3% and 10%" in ((await env.in_topic(thread))[0].text or "")
    env.agent_says(thread, "/offer 5%")
    assert "Offer of 5%" in ((await env.in_topic(thread))[0].text or "")
    env.agent_says(thread, "/refund_date")
    assert "Refund date:" in ((await env.in_topic(thread))[0].text or "")
    env.agent_says(None, "/help")
    assert "/claim" in ((await env.in_topic(None))[0].text or "")
    env.fake.user_sends(-100999, "/claim", user_id=SECOND_AGENT, message_thread_id=thread)  # another group
    await env.settle()
    assert (await env.conversation("A-2")).ownership is Ownership.WAITING


async def test_topic_is_recreated_after_deletion(env: DeskEnv) -> None:
    thread = await escalate(env, "A-3")
    await env.in_topic(thread)
    await env.desk.bot.delete_forum_topic(GROUP, thread)
    env.fake.user_sends(BUYER, "still waiting")
    new = await eventually(
        lambda: _new_topic(env, "A-3", thread), what="a new topic"
    )  # the buyer's words are in the new card
    card = (await env.in_topic(new))[0].text or ""
    assert "still waiting" in card and "Order A-3" in card
    # a person has not answered yet: told once, in the buyer's time, that one will today
    assert "will answer you here soon" in ((await env.fake.anext_message(BUYER)).text or "")
    env.agent_says(new, "Sorry for the wait!")
    assert (await env.fake.anext_message(BUYER)).text == "Sorry for the wait!"


async def _new_topic(env: DeskEnv, order_id: str, old: int) -> int | None:
    current = await env.desk.topics.topic_of(order_id)
    return current if current not in (None, old) else None


@pytest.mark.slow
async def test_sla_reminder_once_per_breach(tmp_path: Path, fake: FakeTelegram) -> None:
    policy = {**ALWAYS_OPEN, "handoff": {"response_within": "1s", "check_every": "200ms"}}
    env = await start_env(tmp_path, fake, policy)
    try:
        await escalate(env, "A-4")
        await eventually(lambda: _async(general_topic(fake)), 5, "a reminder")
        await env.settle(1.5)
        reminders = general_topic(fake)
        assert len(reminders) == 1 and "order A-4" in reminders[0] and "Waiting too long" in reminders[0]
    finally:
        await env.services.close()


async def _async(value: object) -> object:
    return value


async def test_late_answer_prompts_an_apology(tmp_path: Path, fake: FakeTelegram) -> None:
    monday_late = datetime(2026, 3, 9, 17, 50, tzinfo=ZoneInfo("Asia/Shanghai"))
    clock = MovableClock(monday_late)
    # the engine runs on this March clock while APScheduler fires on the real one: follow-ups
    # planned from March would be overdue at once, so they go beyond the real date
    far = {"payment_help_after": "300d", "nudge_after": "400d", "offer_after": "500d"}
    policy = {"quiet_hours": {"start": "00:00", "end": "00:00"}, "handoff": {"check_every": "200ms"}, "unpaid": far}
    env = await start_env(tmp_path, fake, policy, clock)
    try:
        thread = await escalate(env, "A-5", first_order=False)
        assert "Apologise" not in ((await env.in_topic(thread))[0].text or "")
        clock.advance(timedelta(hours=16))  # Tuesday 09:50 in the store
        env.agent_says(thread, "/claim")
        first, second = await env.in_topic(thread, 2)
        assert "Apologise first: the buyer has been waiting since Monday 9 March, 17:50" in (first.text or "")
        assert "took this chat" in (second.text or "")
    finally:
        await env.services.close()


async def test_web_console_and_telegram_act_on_the_same_conversation(env: DeskEnv) -> None:
    first = await escalate(env, "C-1")
    await escalate(env, "C-2", chat_id=5002)
    app = FastAPI()
    parts = await mount_console(app, env.services, CONSOLE_TOKEN)
    now = datetime.now(ZoneInfo("UTC"))
    await parts.store.add_user(User("Kim", Role.AGENT, hash_password("a-long-secret-1234"), now))
    bearer = {"Authorization": f"Bearer {CONSOLE_TOKEN}"}
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
            assert (await client.get("/api/v1/queue")).status_code == 401
            assert (await client.get("/api/v1/queue", headers={"Authorization": "Bearer nope"})).status_code == 401
            queue = (await client.get("/api/v1/queue", headers=bearer)).json()
            assert [q["order_id"] for q in queue] == ["C-1", "C-2"]  # longest waiting first
            assert queue[0]["ownership"] == "waiting" and queue[0]["deadline_at"] and not queue[0]["overdue"]
            body = {"text": "Hello from the console", "agent": "Mallory"}
            assert (await client.post("/api/v1/conversations/C-1/reply", json=body, headers=bearer)).status_code == 401
            csrf = await _log_in(client, "Kim")
            reply = await client.post("/api/v1/conversations/C-1/reply", json=body, headers={"X-CSRF-Token": csrf})
            assert reply.status_code == 202
            assert (await env.fake.anext_message(BUYER)).text == "Hello from the console"
            mirrored = [m.text for m in await env.in_topic(first, 2)]
            assert "💬 Kim (console) to the buyer: Hello from the console" in mirrored
            assert (await env.conversation("C-1")).ownership is Ownership.AGENT
    finally:
        await parts.close(env.services)


async def _log_in(client: httpx.AsyncClient, name: str) -> str:
    form = (await client.get("/login")).text
    nonce = form.split('name="login_csrf" value="')[1].split('"')[0]
    data = {"name": name, "password": "a-long-secret-1234", "login_csrf": nonce, "next": "/console"}
    assert (await client.post("/login", data=data)).status_code == 303
    page = (await client.get("/console")).text
    return page.split('name="csrf" value="')[1].split('"')[0]


async def test_card_forwards_evidence_files_and_lists_links(env: DeskEnv) -> None:
    thread = await escalate(env, "A-6")
    await env.in_topic(thread)
    photo = env.fake.register_file("photo").file_id
    store = env.services.store
    async with store.lock("A-6"):
        conversation, order = await store.load("A-6")
        assert conversation is not None and order is not None
        conversation.memory["evidence"] = {"photos": [photo], "links": ["https://youtu.be/abc"],
                                           "videos": [], "packaging": True}  # fmt: skip
        await store.commit(Commit(conversation, order, "test:evidence"))
    await env.desk.open_card("A-6", again=True)
    card, picture = await env.in_topic(thread, 2)
    assert "https://youtu.be/abc" in (card.text or "") and "1 photo(s)" in (card.text or "")
    assert picture.method == "sendPhoto" and picture.file_id == photo
