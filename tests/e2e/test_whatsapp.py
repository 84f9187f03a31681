"""WhatsApp end to end: the real bot process against the fake Graph API, driven
by signed webhooks; the 24-hour window, templates, HELD, dedupe across restarts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.storage import open_store
from dialogs.model import OutboxMessage
from tests.e2e.process import SECONDS_POLICY, TOKEN, BotProcess, placed_event
from tests.fakes.whatsapp_api import FakeWhatsApp

pytestmark = pytest.mark.slow
PHONE = "+34600123456"
FAST_CHAT = "\n[limits.whatsapp]\nrate = 80\nper_chat_rate = 20\nper_chat_burst = 10\n"
TEMPLATES = """
[whatsapp]
window = "3s"
[whatsapp.templates."unpaid/nudge"]
name = "payment_reminder"
language = "en"
params = ["buyer_name", "order_id"]
"""


@pytest.fixture
def fake() -> Iterator[FakeWhatsApp]:
    api = FakeWhatsApp().start()
    yield api
    api.stop()


def start_bot(tmp_path: Path, fake: FakeWhatsApp, policy: str = SECONDS_POLICY + FAST_CHAT) -> BotProcess:
    return BotProcess(tmp_path, policy=policy, **fake.env()).start()


def outbox(tmp_path: Path, order_id: str) -> list[OutboxMessage]:
    async def read() -> list[OutboxMessage]:
        store = await open_store(f"sqlite:///{tmp_path}/bot.sqlite3")
        try:
            return await store.outbox_for(order_id)
        finally:
            await store.close()

    return asyncio.run(read())


def buyer_lines(bot: BotProcess, order_id: str) -> list[str]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    rows = httpx.get(f"{bot.url}/api/v1/orders/{order_id}/transcript", headers=headers).json()
    return [r["text"] for r in rows if r["author"] == "buyer"]


def test_unpaid_journey_with_reply_buttons_a_list_and_statuses(tmp_path: Path, fake: FakeWhatsApp) -> None:
    bot = start_bot(tmp_path, fake)
    try:
        # the store gives the phone as people type it; the webhook brings digits only
        assert bot.post_event(placed_event("WA-1", whatsapp_phone="+34 600-12-34-56")).status_code == 202
        hello = fake.text(PHONE, "hello")
        assert fake.post(bot.url, hello).status_code == 200
        assert "order WA-1" in fake.wait_for(PHONE, 1)[0].text
        guide = fake.wait_for(PHONE, 2)[1]
        assert "Step-by-step help" in guide.text
        action = guide.body["interactive"]["action"]
        assert [b["reply"]["title"] for b in action["buttons"]] == ["I've paid", "Payment failed", "Talk to a person"]
        nudge = fake.wait_for(PHONE, 3)[2]
        assert nudge.body["interactive"]["type"] == "list" and len(nudge.reply_ids) == 5
        assert fake.post(bot.url, hello).status_code == 200  # WhatsApp redelivers: handled once
        paid = next(i for i in nudge.reply_ids if i.startswith("paid_already:"))
        assert fake.post(bot.url, fake.list_reply(PHONE, paid, "I've paid")).status_code == 200
        claimed = fake.wait_for(PHONE, 4)[3]
        assert claimed.to == "34600123456"
        for status in ("delivered", "read", "delivered"):  # out of order: read stays
            assert fake.post(bot.url, fake.status(guide.wamid, status, PHONE)).status_code == 200
        assert buyer_lines(bot, "WA-1") == ["hello", "I've paid"]  # the press, by its label
    finally:
        bot.stop()
    noted = {m.channel_message_id: m for m in outbox(tmp_path, "WA-1")}
    assert noted[guide.wamid].status == "sent" and (noted[guide.wamid].error or "").startswith("whatsapp: read")
    assert len(fake.sent) == len({m.channel_message_id for m in outbox(tmp_path, "WA-1")} - {None})


def test_handshake_bad_signatures_and_dedupe_across_a_restart(tmp_path: Path, fake: FakeWhatsApp) -> None:
    # follow-ups far away: on a loaded machine this test outlasts the seconds policy's nudge
    bot = start_bot(tmp_path, fake, SECONDS_POLICY.replace('"4s"', '"1h"').replace('"6s"', '"2h"') + FAST_CHAT)
    try:
        params = {"hub.mode": "subscribe", "hub.verify_token": fake.verify_token, "hub.challenge": "1158201444"}
        answer = httpx.get(f"{bot.url}/whatsapp/webhook", params=params)
        assert answer.status_code == 200 and answer.text == "1158201444"
        wrong = httpx.get(f"{bot.url}/whatsapp/webhook", params={**params, "hub.verify_token": "guess"})
        assert wrong.status_code == 403
        bot.post_event(placed_event("WA-2", first_order=False, whatsapp_phone=PHONE))
        thanks = fake.text(PHONE, "thanks!", message_id="wamid.in-thanks-1")
        assert fake.post(bot.url, thanks, unsigned=True).status_code == 401
        assert fake.post(bot.url, thanks, signature=fake.sign(b"other body")).status_code == 401
        assert fake.post(bot.url, thanks, signature=fake.sign(b"x", secret="not-the-secret")).status_code == 401
        assert fake.post(bot.url, b"{not json", signature=fake.sign(b"{not json")).status_code == 400
        time.sleep(0.5)
        assert fake.messages_to(PHONE) == [] and buyer_lines(bot, "WA-2") == []
        assert fake.post(bot.url, thanks).status_code == 200
        fake.wait_for(PHONE, 1)
        bot.stop()
        bot.start()
        assert fake.post(bot.url, thanks).status_code == 200  # redelivered after the restart
        time.sleep(1)
        assert len(fake.messages_to(PHONE)) == 1
        assert buyer_lines(bot, "WA-2") == ["thanks!"]
    finally:
        bot.stop()


def test_outside_the_window_a_template_goes_out_or_the_message_is_held(tmp_path: Path, fake: FakeWhatsApp) -> None:
    bot = start_bot(tmp_path, fake, SECONDS_POLICY + FAST_CHAT + TEMPLATES)
    try:
        bot.post_event(placed_event("WA-3", first_order=False, whatsapp_phone=PHONE))
        nudge = fake.wait_for(PHONE, 1, timeout=10)[0]  # +4 s; the buyer never wrote
        assert nudge.type == "template"
        template = nudge.body["template"]
        assert template["name"] == "payment_reminder" and template["language"] == {"code": "en"}
        assert [p["text"] for p in template["components"][0]["parameters"]] == ["Ann", "WA-3"]
        deadline = time.monotonic() + 10
        while not [m for m in outbox(tmp_path, "WA-3") if m.template == "unpaid/offer" and m.status == "held"]:
            assert time.monotonic() < deadline, outbox(tmp_path, "WA-3")
            time.sleep(0.3)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        shown = httpx.get(f"{bot.url}/api/v1/orders/WA-3", headers=headers).json()["undelivered"]
        assert [(m["template"], m["status"]) for m in shown] == [("unpaid/offer", "held")]
        rows = httpx.get(f"{bot.url}/api/v1/orders/WA-3/transcript", headers=headers).json()
        assert any(r["author"] == "note" and "not sent (outside the 3-second window" in r["text"] for r in rows)
    finally:
        bot.stop()
    offer = next(m for m in outbox(tmp_path, "WA-3") if m.template == "unpaid/offer")
    assert offer.error == "outside the 3-second window and no approved template configured for unpaid/offer"
    assert len(fake.sent) == 1 and fake.rejected == []
