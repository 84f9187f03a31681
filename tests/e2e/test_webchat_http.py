"""The web chat's API from outside, as a careless client or an attacker would
use it: sessions only the server makes, files judged by content and bounded
by the policy, files served only to their order's session, bad cursors and
bad text refused with 4xx, a retried send taken once, the live stream's
catch-up from the last event seen."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.process import BotProcess, WebBuyer, simple_event
from tests.e2e.webchat_helpers import ALWAYS_OPEN, place_order, png, transcript, transcript_with

pytestmark = pytest.mark.slow
SMALL_FILES = ALWAYS_OPEN + '\n[uploads]\nimage_max = "64KB"\nvideo_max = "128KB"\n'
WEBM_HEAD = b"\x1a\x45\xdf\xa3" + b"\x00" * 60


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(tmp_path, policy=SMALL_FILES).start()
    yield process
    process.stop()


def session_for(bot: BotProcess, order_id: str, session: str | None = None) -> str:
    link = place_order(bot, order_id, "Lamp")
    body = {"token": link.split("t=")[1], **({"session": session} if session else {})}
    response = httpx.post(f"{bot.url}/chat/api/bind", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["session"])


def upload(bot: BotProcess, session: str, content: bytes) -> httpx.Response:
    return httpx.post(f"{bot.url}/chat/api/upload", params={"session": session}, content=content, timeout=30)


def test_sessions_are_made_by_the_server_only(bot: BotProcess) -> None:
    token = place_order(bot, "S-1", "Lamp").split("t=")[1]
    short = httpx.post(f"{bot.url}/chat/api/bind", json={"token": token, "session": "mine"})
    assert short.status_code == 422
    chosen = "a" * 40  # long enough, but never made by the server: a new one is made instead
    made = httpx.post(f"{bot.url}/chat/api/bind", json={"token": token, "session": chosen}).json()["session"]
    assert made != chosen and len(made) >= 40
    assert httpx.get(f"{bot.url}/chat/api/orders", params={"session": chosen}).status_code == 404
    again = httpx.post(f"{bot.url}/chat/api/bind", json={"token": token, "session": made}).json()["session"]
    assert again == made  # the browser's own session keeps its orders together


def test_bad_cursors_and_lone_surrogates_are_the_clients_error(bot: BotProcess) -> None:
    session = session_for(bot, "C-1")
    for after in ("C-1=99999999999999999999999", "C-1=-1", "C-1=x", "garbage"):
        response = httpx.get(f"{bot.url}/chat/api/messages", params={"session": session, "after": after})
        assert response.status_code == 422, after
    stream = httpx.get(f"{bot.url}/chat/api/stream", params={"session": session}, headers={"Last-Event-ID": "9" * 30})
    assert stream.status_code == 422
    body = b'{"session": "' + session.encode() + b'", "text": "hi \\ud800 there"}'
    sent = httpx.post(f"{bot.url}/chat/api/messages", content=body, headers={"Content-Type": "application/json"})
    assert 400 <= sent.status_code < 500


def test_files_are_judged_by_content_and_bounded_by_the_policy(bot: BotProcess, tmp_path: Path) -> None:
    session = session_for(bot, "U-1")
    photo = png(tmp_path / "p.png").read_bytes()
    assert upload(bot, session, photo).json()["kind"] == "photo"
    assert upload(bot, session, b"<html><script>alert(1)</script></html>" + b" " * 64).status_code == 415
    assert upload(bot, session, photo + b"\x00" * 70 * 1024).status_code == 413  # a photo over 64 KB
    assert upload(bot, session, WEBM_HEAD + b"\x00" * 100 * 1024).json()["kind"] == "video"  # video: 128 KB
    assert upload(bot, session, WEBM_HEAD + b"\x00" * 140 * 1024).status_code == 413
    assert upload(bot, "b" * 43, photo).status_code == 404
    media = [m for m in transcript(bot, "U-1") if m["media"]]
    assert [m["media"][0]["kind"] for m in media] == ["photo", "video"]  # the refused ones left nothing
    files = [p for p in (bot.tmp / "media").iterdir() if not p.name.endswith(".json")]
    assert len(files) == 2  # and nothing half-written on disk


def test_files_are_served_only_to_their_orders_session(bot: BotProcess, tmp_path: Path) -> None:
    owner = session_for(bot, "M-1")
    stranger = session_for(bot, "M-2")
    assert upload(bot, owner, png(tmp_path / "p.png").read_bytes()).status_code == 202
    messages = httpx.get(f"{bot.url}/chat/api/messages", params={"session": owner}).json()["messages"]
    url = next(m["media"][0]["url"] for m in messages if m["media"])
    mine = httpx.get(f"{bot.url}{url}")
    assert mine.status_code == 200 and mine.headers["content-type"] == "image/png"
    assert mine.headers["x-content-type-options"] == "nosniff"
    path = url.split("?")[0]
    assert httpx.get(f"{bot.url}{path}", params={"session": stranger}).status_code == 404
    for probe in ("..%2F..%2Fbot.sqlite3", "..%2Fapi_token", "%2e%2e%2fbot.log", "bot.sqlite3"):
        assert httpx.get(f"{bot.url}/chat/media/{probe}", params={"session": owner}).status_code == 404


def test_a_retried_send_is_taken_once(bot: BotProcess) -> None:
    session = session_for(bot, "R-1")
    body = {"session": session, "text": "where is my parcel?", "client_id": "retry-0123456789"}
    for _ in range(3):  # the answer was lost twice; the page sends again with the same id
        assert httpx.post(f"{bot.url}/chat/api/messages", json=body).status_code == 202
    assert [m["text"] for m in transcript(bot, "R-1") if m["author"] == "buyer"] == ["where is my parcel?"]


def test_the_live_stream_catches_up_from_the_last_event_seen(bot: BotProcess) -> None:
    session = session_for(bot, "L-1")
    httpx.post(f"{bot.url}/chat/api/messages", json={"session": session, "text": "hello"}).raise_for_status()
    seqs = [m["seq"] for m in transcript_with(bot, "L-1", {"bot", "buyer"}, 2)]
    assert len(seqs) >= 2
    params = {"session": session, "order": "L-1"}
    with httpx.stream("GET", f"{bot.url}/chat/api/stream", params=params, headers={"Last-Event-ID": str(seqs[0])},
                      timeout=10) as response:  # fmt: skip
        assert response.headers["content-type"].startswith("text/event-stream")
        ids, events = [], []
        for line in response.iter_lines():
            if line.startswith("id:"):
                ids.append(int(line[3:]))
            elif line.startswith("event:"):
                events.append(line[6:].strip())
            elif line.startswith("data:") and events[-1] == "state":
                state = json.loads(line[5:])
                break
    assert ids and ids[0] > seqs[0]  # nothing already seen is sent again
    assert state["order_id"] == "L-1" and state["store"] == "Lumen Store" and state["status"] == "placed"


def test_damaged_goods_on_the_web_chat_photos_first_then_a_person(bot: BotProcess, tmp_path: Path) -> None:
    session = session_for(bot, "G-1")
    for kind, data in (("order.paid", {}), ("order.delivered", {}), ("aftersales.opened", {"reason": "damaged"})):
        assert bot.post_event(simple_event("G-1", kind, **data)).status_code == 202
    buyer = WebBuyer(bot.url, session)
    assert "arrived damaged" in next_text(buyer, "arrived damaged")
    assert upload(bot, session, png(tmp_path / "damage.png").read_bytes()).status_code == 202
    question = next_with(buyer, lambda m: any(b["data"].startswith("packaging_shown:") for b in m["buttons"]))
    buyer.presses(question, "packaging_shown")
    next_text(buyer, "person from our team")
    evidence = bot.order("G-1")["order"]["facts"]["evidence"]
    assert evidence["photos"][0].startswith("webchat:") and evidence["packaging"] is True


def next_with(buyer: WebBuyer, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    while True:  # next_reply fails after its own bound
        message = buyer.next_reply(timeout=20)
        if wanted(message):
            return message


def next_text(buyer: WebBuyer, text: str) -> str:
    return str(next_with(buyer, lambda m: text in m["text"])["text"])
