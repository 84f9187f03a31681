"""What agents see of the web chat and of button presses, in-process with the
agents' Telegram desk on the fake Bot API: a photo a buyer uploaded reaches
the buyer's topic as the photo itself, and a press reads as its label."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.media import MediaFiles, StoredMedia
from dialogs.model import Inbound
from tests.e2e.agents_env import DeskEnv, eventually, start_env
from tests.e2e.webchat_helpers import png
from tests.fakes.telegram_api import FakeTelegram

BUYER = 5101


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token="123:ABC", rate_limits=False) as api:
        yield api


@pytest.fixture
async def env(tmp_path: Path, fake: FakeTelegram) -> AsyncIterator[DeskEnv]:
    started = await start_env(tmp_path, fake)
    yield started
    await started.services.close()


async def test_a_photo_uploaded_in_the_web_chat_reaches_the_agents_topic_as_a_photo(
    env: DeskEnv, tmp_path: Path
) -> None:
    await env.place("W-9", BUYER)
    env.fake.user_sends(BUYER, "I want to talk to a person")
    await env.fake.anext_message(BUYER)
    thread = await env.topic("W-9")
    await env.in_topic(thread)  # the card
    files = MediaFiles(env.services.settings.media_root)  # where the web chat stores uploads
    files.prepare()
    media_id = files.new_id()
    picture = png(tmp_path / "p.png").read_bytes()
    files.partial_path(media_id).write_bytes(picture)
    meta = StoredMedia(media_id, "W-9", "photo", "image/png", len(picture), datetime.now(UTC).isoformat())
    files.commit(media_id, meta)
    payload = {"channel": "webchat", "address": "s" * 43, "text": "", "media": [meta.payload()]}
    await env.services.runtime.submit(Inbound("W-9", "buyer_message", payload, "web:upload:1", env.clock.now()))
    said, photo = await env.in_topic(thread, 2)
    assert "[photo]" in (said.text or "")
    assert photo.method == "sendPhoto"
    assert env.fake.register_file("photo", file_id=photo.file_id).content == picture


async def test_a_telegram_press_reads_as_its_label_for_agents(env: DeskEnv) -> None:
    await env.place("W-10", BUYER)  # a first order: the payment guide comes in 3 s, with buttons
    while True:
        guide = await env.fake.anext_message(BUYER, timeout=15)
        paid = [b for b in guide.buttons if "paid_already:" in str(b.get("callback_data", ""))]
        if paid:
            break
    env.fake.user_presses(BUYER, guide.message_id, paid[0]["callback_data"])

    async def pressed() -> list[str]:
        rows = await env.services.store.transcript("W-10")
        return [e.text for _, e in rows if e.author == "buyer" and e.pressed]

    assert await eventually(pressed, timeout=10, what="the press in the transcript") == ["I've paid"]
