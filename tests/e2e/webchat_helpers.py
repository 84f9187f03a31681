"""What the web chat browser tests share: a bot process whose store is always
open and never quiet, small real files made on the spot (a PNG by hand, a
WebM recorded by Chromium itself), and the store's side (events, agents)."""

from __future__ import annotations

import struct
import time
import zlib
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.console_env import Person, add_user
from tests.e2e.process import TOKEN, BotProcess, placed_event, simple_event

ALWAYS_OPEN = """
[store]
name = "Lumen Store"
timezone = "Europe/Madrid"
holiday_country = "ES"
[store.working_hours]
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
opens = "00:00"
closes = "23:59"
[quiet_hours]
start = "00:00"
end = "00:00"
"""
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def png(path: Path, width: int = 96, height: int = 64) -> Path:
    """A real PNG (a colour gradient), written without any imaging library."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 160)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
                     + chunk(b"IEND", b""))  # fmt: skip
    return path


RECORD_WEBM = """async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 160; canvas.height = 120;
  const g = canvas.getContext("2d");
  const recorder = new MediaRecorder(canvas.captureStream(25), {mimeType: "video/webm"});
  const parts = [];
  recorder.ondataavailable = (e) => parts.push(e.data);
  const done = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start(100);
  for (let i = 0; i < 20; i++) {
    g.fillStyle = `hsl(${i * 18}, 70%, 50%)`; g.fillRect(0, 0, 160, 120);
    await new Promise((r) => setTimeout(r, 40));
  }
  recorder.stop();
  await done;
  const bytes = new Uint8Array(await new Blob(parts, {type: "video/webm"}).arrayBuffer());
  return Array.from(bytes);
}"""


def webm(browser: Any, path: Path) -> Path:
    """A real one-second WebM video, recorded by Chromium from a canvas."""
    page = browser.new_page()
    try:
        path.write_bytes(bytes(page.evaluate(RECORD_WEBM)))
    finally:
        page.close()
    return path


def place_order(bot: BotProcess, order_id: str, title: str, **buyer: Any) -> str:
    """An order placed and paid; returns its web chat link."""
    event = placed_event(order_id, first_order=False, **buyer)
    event["data"]["items"][0]["title"] = title
    assert bot.post_event(event).status_code == 202
    return f"{bot.url}/chat?t={bot.order(order_id)['link_token']}"


def event(bot: BotProcess, order_id: str, kind: str, **data: Any) -> None:
    assert bot.post_event(simple_event(order_id, kind, **data)).status_code == 202


def agent(bot: BotProcess, name: str) -> Person:
    """A person of the store, logged in to the console (made with `buyerbot users`)."""
    add_user(bot, name, "agent")
    return Person(bot, name)


def agent_replies(person: Person, order_id: str, text: str) -> None:
    response = person.api("POST", f"/api/v1/conversations/{order_id}/reply", json={"text": text})
    assert response.status_code == 202, response.text


def transcript(bot: BotProcess, order_id: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{bot.url}/api/v1/orders/{order_id}/transcript", headers=AUTH, timeout=10)
    return list(response.json())


def transcript_with(bot: BotProcess, order_id: str, authors: set[str], at_least: int) -> list[dict[str, Any]]:
    """The transcript once it holds `at_least` lines by `authors` (the bot answers after the 202)."""
    deadline = time.monotonic() + 30
    while True:
        lines = [m for m in transcript(bot, order_id) if m["author"] in authors]
        if len(lines) >= at_least or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)
