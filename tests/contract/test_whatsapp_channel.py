"""The WhatsApp door and channel in process against the fake Graph API: request
shapes, error mapping, the window and templates, binding, webhook parsing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bot.channels.whatsapp import WhatsAppDoor
from bot.config import ROOT, load_settings
from bot.runtime import Runtime
from bot.storage import open_store
from dialogs.engine import DialogEngine
from dialogs.model import Buyer, Commit, Conversation, Order, OutboxMessage, OutboxStatus
from dialogs.orders import normalise_phone
from dialogs.policy import policy_from_dict
from dialogs.ports import RenderedMessage, Store
from dialogs.unpaid import UnpaidJourney
from tests.fakes.whatsapp_api import FakeWhatsApp

PHONE = "+447700900123"
POLICY = {"whatsapp": {"window": "24h", "templates": {"unpaid/nudge": {
    "name": "payment_reminder", "language": "en", "params": ["buyer_name", "order_id", "total"],
    "languages": {"es": "es_ES", "ru": {"name": "payment_reminder_ru", "language": "ru"}}}}}}  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeWhatsApp]:
    api = FakeWhatsApp().start()
    yield api
    api.stop()


class Rig:
    def __init__(self, store: Store, door: WhatsAppDoor, client: httpx.AsyncClient, fake: FakeWhatsApp) -> None:
        self.store, self.door, self.client, self.fake = store, door, client, fake
        self.channel, self.clock = door.channel, door.runtime.clock

    async def post(self, payload: dict[str, Any], **headers: str) -> httpx.Response:
        body = json.dumps(payload).encode()
        self.fake.note_inbound(payload)
        headers = {"X-Hub-Signature-256": self.fake.sign(body), **headers}
        return await self.client.post("/whatsapp/webhook", content=body, headers=headers)

    async def seed(self, order_id: str, *, phone: str = PHONE, wrote_ago: timedelta | None = None,
                   template: str = "unpaid/nudge", language: str = "en") -> OutboxMessage:  # fmt: skip
        now = self.clock.now()
        buyer = Buyer(id="b", name="Ann", language=language, whatsapp_phone=phone)
        order = Order(order_id, buyer, total_amount="20.0", currency="USD", status="unpaid", placed_at=now)
        conversation = Conversation(order_id, order_id, dialog="unpaid", state="nudged", language=language,
                                    channel="whatsapp", address=phone)  # fmt: skip
        conversation.last_buyer_message_at = now - wrote_ago if wrote_ago is not None else None
        message = OutboxMessage(f"{order_id}#0", order_id, template, {"order_id": order_id}, [], language, 1, now,
                                "whatsapp", phone)  # fmt: skip
        await self.store.commit(Commit(conversation, order, f"seed:{order_id}", outbox=[message]))
        return message


@pytest.fixture
async def rig(tmp_path: Path, fake: FakeWhatsApp) -> AsyncIterator[Rig]:
    fake.sent.clear()
    fake.last_inbound.clear()
    store = await open_store(f"sqlite:///{tmp_path / 'wa.sqlite3'}")
    clock = Clock()
    policy = policy_from_dict(POLICY)
    runtime = Runtime(store, DialogEngine([UnpaidJourney()], policy, clock), clock)
    env = {k.removeprefix("BUYERBOT_").lower(): v for k, v in fake.env().items()}
    settings = load_settings(templates=ROOT / "templates", **env)
    door = WhatsAppDoor(settings, runtime, policy)
    app = FastAPI()
    app.include_router(door.router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://bot") as client:
        yield Rig(store, door, client, fake)
    await door.stop()
    await store.close()


def test_phone_numbers_normalise_to_e164() -> None:
    assert normalise_phone("+34 600-12-34-56") == "+34600123456"
    assert normalise_phone("0034 (600) 123.456") == "+34600123456"
    assert normalise_phone("34600123456") == "+34600123456"
    assert normalise_phone("call me") is None


# -- sending ------------------------------------------------------------------
async def test_buttons_lists_links_and_long_bodies_take_whatsapp_shapes(rig: Rig) -> None:
    three = (("a:unpaid:O1", "I've paid", None), ("b:unpaid:O1", "A label far over twenty", None),
             ("c:unpaid:O1", "Talk", None))  # fmt: skip
    assert (await rig.channel.send(PHONE, RenderedMessage("Hi", three))).ok is False  # window closed, no id
    rig.fake.last_inbound[PHONE[1:]] = 1e18  # the buyer just wrote
    assert (await rig.channel.send(PHONE, RenderedMessage("Hi", three))).ok
    five = tuple((f"x{i}:unpaid:O1", f"Row {i} with a rather long title", None) for i in range(5))
    linked = (("open:unpaid:O1", "Track it", "https://example.com/t"),)
    assert (await rig.channel.send(PHONE, RenderedMessage("Pick one", five))).ok
    assert (await rig.channel.send(PHONE, RenderedMessage("Your parcel", linked))).ok
    assert (await rig.channel.send(PHONE, RenderedMessage("x" * 1500, three[:1]))).ok
    buttons, rows, link, long_text, long_buttons = rig.fake.messages_to(PHONE)
    titles = [b["reply"]["title"] for b in buttons.body["interactive"]["action"]["buttons"]]
    assert titles == ["I've paid", "A label far over tw…", "Talk"] and buttons.reply_ids[0] == "a:unpaid:O1"
    assert rows.body["interactive"]["type"] == "list" and rows.body["interactive"]["action"]["button"] == "Choose"
    assert link.type == "text" and "Track it: https://example.com/t" in link.text
    assert long_text.type == "text" and long_buttons.text == "Choose"


async def test_errors_map_to_send_results(rig: Rig) -> None:
    rig.fake.last_inbound[PHONE[1:]] = 1e18
    cases = [(130429, None, "retry_after", 1.0), (131056, None, "retry_after", 6.0),
             (None, 429, "retry_after", 7.0), (131000, None, "retryable", None), (None, 503, "retryable", None),
             (131026, None, "permanent", None)]  # fmt: skip
    for code, status, expected, wait in cases:
        rig.fake.fail_next(code, http_status=status, retry_after=7 if status == 429 else None)
        result = await rig.channel.send(PHONE, RenderedMessage("hello"))
        assert not result.ok and not result.held, (code, status)
        assert (result.retry_after == wait) if expected == "retry_after" else result.retry_after is None
        assert result.permanent == (expected == "permanent")
    rig.channel.client.headers["Authorization"] = "Bearer expired"
    bad = await rig.channel.send(PHONE, RenderedMessage("hello"))
    assert bad.permanent and "BUYERBOT_WHATSAPP_TOKEN" in str(bad.error)
    rig.channel.url = "http://127.0.0.1:9/v21.0/1/messages"
    assert (await rig.channel.send(PHONE, RenderedMessage("hello"))).permanent is False
    assert rig.fake.messages_to(PHONE) == []


async def test_a_retry_never_resends_a_part_that_went_out(rig: Rig) -> None:
    message = await rig.seed("O-2", wrote_ago=timedelta(minutes=5))
    rig.fake.last_inbound[PHONE[1:]] = 1e18
    rendered = RenderedMessage("y" * 1500, (("a:unpaid:O-2", "Yes", None),), message.id)
    rig.fake.fail_next(None, http_status=500, kind="interactive")
    assert (await rig.channel.send(PHONE, rendered)).ok is False  # the long text went out, the buttons not
    assert (await rig.channel.send(PHONE, rendered)).ok
    assert [s.type for s in rig.fake.messages_to(PHONE)] == ["text", "interactive"]
    again = await rig.channel.send(PHONE, rendered)  # sent, but the sender did not get to record it
    assert again.ok and again.channel_message_id == rig.fake.messages_to(PHONE)[-1].wamid
    assert len(rig.fake.messages_to(PHONE)) == 2


# -- the window -----------------------------------------------------------------
async def test_outside_the_window_templates_by_language_or_held(rig: Rig) -> None:
    en = await rig.seed("O-3", wrote_ago=timedelta(hours=25))
    result = await rig.channel.send(PHONE, RenderedMessage("free text", (), en.id))
    spec = rig.fake.messages_to(PHONE)[-1].body["template"]
    assert result.ok and spec["name"] == "payment_reminder" and spec["language"] == {"code": "en"}
    assert [p["text"] for p in spec["components"][0]["parameters"]] == ["Ann", "O-3", "US$20.00"]
    ru = await rig.seed("O-4", phone="+79001234567", wrote_ago=timedelta(hours=30), language="ru")
    assert (await rig.channel.send("+79001234567", RenderedMessage("x", (), ru.id))).ok
    assert rig.fake.messages_to("+79001234567")[-1].body["template"]["name"] == "payment_reminder_ru"
    other = await rig.seed("O-5", phone="+15550001", wrote_ago=timedelta(hours=25), template="unpaid/offer")
    held = await rig.channel.send("+15550001", RenderedMessage("x", (), other.id))
    assert held.held and held.error == (
        "outside the 24-hour window and no approved template configured for unpaid/offer"
    )


async def test_131047_from_whatsapp_falls_back_to_the_template_or_holds(rig: Rig) -> None:
    nudge = await rig.seed("O-6", wrote_ago=timedelta(hours=1))  # we think the window is open
    assert (await rig.channel.send(PHONE, RenderedMessage("free", (), nudge.id))).ok
    assert [s.type for s in rig.fake.messages_to(PHONE)] == ["template"]
    offer = await rig.seed("O-7", phone="+15550002", wrote_ago=timedelta(hours=1), template="unpaid/offer")
    held = await rig.channel.send("+15550002", RenderedMessage("free", (), offer.id))
    assert held.held and "no approved template" in str(held.error)


# -- the webhook ----------------------------------------------------------------
async def test_webhook_signature_and_handshake(rig: Rig) -> None:
    payload = rig.fake.text(PHONE, "hi")
    assert (await rig.post(payload, **{"X-Hub-Signature-256": "sha256=" + "0" * 64})).status_code == 401
    assert (await rig.client.post("/whatsapp/webhook", content=json.dumps(payload))).status_code == 401
    body = b"[1, 2"
    bad = await rig.client.post("/whatsapp/webhook", content=body, headers={"X-Hub-Signature-256": rig.fake.sign(body)})
    assert bad.status_code == 400
    assert await rig.store.pending_inbound() == [] and rig.fake.messages_to(PHONE) == []
    query = {"hub.mode": "subscribe", "hub.verify_token": rig.fake.verify_token, "hub.challenge": "42"}
    assert (await rig.client.get("/whatsapp/webhook", params=query)).text == "42"
    assert (await rig.client.get("/whatsapp/webhook", params={**query, "hub.mode": "x"})).status_code == 403


async def test_messages_become_inbounds_once(rig: Rig) -> None:
    await rig.seed("O-8", phone="+44 7700-900123", wrote_ago=timedelta(hours=1))
    data = "paid_already:unpaid:O-8"
    for payload in (rig.fake.button_reply(PHONE, data, message_id="m1"),
                    rig.fake.media(PHONE, "video", "video/mp4", "it does not turn on", media_id="V1", message_id="m2"),
                    rig.fake.media(PHONE, "document", "application/pdf", message_id="m3"),
                    rig.fake.button_reply(PHONE, data, message_id="m1")):  # fmt: skip
        assert (await rig.post(payload)).status_code == 200
    pressed, video, document = await rig.store.pending_inbound()
    assert (pressed.trigger, pressed.source_id, pressed.conversation_id) == ("button_pressed", "wa:m1", "O-8")
    assert pressed.payload == {
        "channel": "whatsapp",
        "address": PHONE,
        "action": "paid_already",
        "dialog": "unpaid",
        "label": data[:20],
    }  # the title the buyer saw (the fake's default)
    assert video.trigger == "buyer_message" and video.payload["text"] == "it does not turn on"
    assert video.payload["media"] == [{"kind": "video", "file_id": "V1", "mime_type": "video/mp4"}]
    assert document.payload["media"][0]["kind"] == "document"
    assert await rig.store.bound("whatsapp", PHONE) == ["O-8"]


async def test_binding_by_order_number_never_reveals_an_order_nor_moves_a_bound_one(rig: Rig) -> None:
    await rig.seed("O-9", phone="+10000000001")  # talks to +1...0001 already
    stranger = "+491701234567"
    for words in ("hello", "my order is O-9", "20.00", "NO-SUCH-1", "0001", "O-9", "0001"):
        assert (await rig.post(rig.fake.text(stranger, words))).status_code == 200
    texts = [s.text for s in rig.fake.messages_to(stranger)]
    assert "order number" in texts[0] and texts[1] == texts[3]  # known and unknown orders: the same question
    assert "last 4 digits" in texts[1]
    assert texts[2].startswith("Sorry") and texts[4].splitlines()[0] == texts[2].splitlines()[0]  # the total: no
    assert "O-9" in texts[6] and "another chat" in texts[6] and "Ann" not in texts[6]  # a status, no more
    assert await rig.store.bound("whatsapp", stranger) == []
    (asked,) = await rig.store.pending_inbound()
    assert asked.trigger == "buyer_bound" and asked.payload["via"] == "order_number"
    change = await rig.door.runtime.engine.handle(rig.store, asked)
    assert change is not None and change.conversation.address == "+10000000001"  # not moved
    (notice,) = change.outbox
    assert notice.template == "common/link_requested" and notice.address == "+10000000001"


async def test_the_bound_number_refuses_and_the_asking_number_learns_nothing_more(rig: Rig) -> None:
    owner, stranger = "+10000000012", "+34611222333"
    await rig.seed("O-12", phone=owner)
    await rig.post(rig.fake.text(stranger, "hola, mi pedido es O-12"))
    assert "últimos 4 dígitos" in rig.fake.messages_to(stranger)[-1].text  # in the language they wrote in
    await rig.post(rig.fake.text(stranger, "0012"))
    assert "O-12" in rig.fake.messages_to(stranger)[-1].text
    (asked,) = await rig.store.pending_inbound()
    change = await rig.door.runtime.engine.handle(rig.store, asked)
    assert change is not None
    refuse = next(b["action"] for b in change.outbox[0].buttons if b["action"].startswith("lk_no."))
    await rig.post(rig.fake.button_reply(owner, f"{refuse}:unpaid:O-12", message_id="m-refuse"))
    (pressed,) = [i for i in await rig.store.pending_inbound() if i.trigger == "button_pressed"]
    change = await rig.door.runtime.engine.handle(rig.store, pressed)
    assert change is not None and [m.template for m in change.outbox] == ["common/link_refused"]
    assert change.conversation.address == owner
    await rig.post(rig.fake.text(stranger, "¿y ahora?"))
    assert rig.fake.messages_to(stranger)[-1].text.startswith("Lo siento")
    assert await rig.store.bound("whatsapp", stranger) == []


async def test_a_replayed_message_of_an_unbound_number_is_not_handled_again_after_a_restart(rig: Rig) -> None:
    payload = rig.fake.text("+491700000042", "hello")
    assert (await rig.post(payload)).json()["accepted"] == 1
    await rig.door.stop()
    restarted = WhatsAppDoor(rig.door.settings, rig.door.runtime, rig.door.runtime.engine.policy)
    rig.door = restarted
    app = FastAPI()
    app.include_router(restarted.router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://bot") as client:
        body = json.dumps(payload).encode()
        response = await client.post("/whatsapp/webhook", content=body,
                                     headers={"X-Hub-Signature-256": rig.fake.sign(body)})  # fmt: skip
    assert response.json()["accepted"] == 0
    assert len(rig.fake.messages_to("+491700000042")) == 1


async def test_three_failures_lock_the_number_for_an_hour(rig: Rig) -> None:
    await rig.seed("O-10", phone="+10000000002")
    guesser = "+491709999999"
    for _ in range(3):
        await rig.post(rig.fake.text(guesser, "O-10"))
        await rig.post(rig.fake.text(guesser, "1.00"))
    await rig.post(rig.fake.text(guesser, "O-10"))
    await rig.post(rig.fake.text(guesser, "20.0"))
    assert await rig.store.bound("whatsapp", guesser) == []
    assert "too many tries" in rig.fake.messages_to(guesser)[-1].text


async def test_statuses_are_noted_and_failed_delivery_outside_the_window_is_held(rig: Rig) -> None:
    message = await rig.seed("O-11", wrote_ago=timedelta(hours=1))
    message.status, message.channel_message_id = OutboxStatus.SENT, "wamid.X1"
    await rig.store.update_outbox(message)
    for status in ("sent", "read", "delivered"):
        assert (await rig.post(rig.fake.status("wamid.X1", status, PHONE))).status_code == 200
    noted = await rig.store.get_outbox(message.id)
    assert noted is not None and noted.status is OutboxStatus.SENT and str(noted.error).startswith("whatsapp: read")
    await rig.post(rig.fake.status("wamid.X1", "failed", PHONE, error_code=131047))
    held = await rig.store.get_outbox(message.id)
    assert held is not None and held.status is OutboxStatus.HELD and "24-hour window" in str(held.error)
