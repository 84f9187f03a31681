"""The unpaid journey through the real process, the event API and the web
chat, on a policy of seconds; and the process killed between follow-ups."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.process import SECONDS_POLICY, TOKEN, BotProcess, placed_event, simple_event
from tests.redis_server import RedisServer

pytestmark = pytest.mark.slow


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(tmp_path).start()
    yield process
    process.stop()


def test_silent_first_time_buyer_gets_guide_nudge_offer_then_silence(bot: BotProcess) -> None:
    assert bot.post_event(placed_event("W-1")).status_code == 202
    buyer = bot.bind_web_chat("W-1")
    assert "linked to your order W-1" in buyer.next_reply()["text"]
    guide = buyer.next_reply()
    assert "Step-by-step help" in guide["text"]
    assert [b["label"] for b in guide["buttons"]] == [
        "Payment guide",
        "I've paid",
        "Payment failed",
        "Talk to a person",
    ]
    assert guide["buttons"][0]["url"] == "https://sale.aliexpress.com/pay-help.htm"  # the help is a link button
    assert "Pay for order W-1 now" in buyer.next_reply()["text"]
    offer = buyer.next_reply()
    assert "3% off" in offer["text"] and "US$19.40 in total" in offer["text"]
    assert buyer.silence(5) == []  # abandoned at +9 s: no more messages, ever
    tasks = httpx.get(f"{bot.url}/api/v1/tasks", headers={"Authorization": "Bearer test-token-0123456789"}).json()
    assert [t["kind"] for t in tasks if t["conversation_id"] == "W-1"] == ["order_lost"]


def test_payment_after_the_nudge_stops_the_offer(bot: BotProcess) -> None:
    bot.post_event(placed_event("W-2"))
    buyer = bot.bind_web_chat("W-2")
    buyer.next_reply()  # linked
    buyer.next_reply()  # guide
    assert "Pay for order W-2 now" in buyer.next_reply()["text"]
    assert bot.post_event(simple_event("W-2", "order.paid")).status_code == 202
    assert "Payment received" in buyer.next_reply()["text"]
    assert buyer.silence(4) == []  # the offer was due at +6 s


def test_buyer_takes_the_offer_with_a_button(bot: BotProcess) -> None:
    bot.post_event(placed_event("W-3", first_order=False))
    buyer = bot.bind_web_chat("W-3")
    buyer.next_reply()  # linked
    buyer.says("hmm not sure yet, still thinking about it")
    offer = buyer.next_reply()
    assert "3% off" in offer["text"]
    buyer.presses(offer, "accept_offer")
    assert "US$19.40" in buyer.next_reply()["text"]
    assert buyer.silence(4) == []  # no nudge, no abandon after the buyer answered


def test_sigkill_between_follow_ups_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    bot = BotProcess(tmp_path).start()
    try:
        bot.post_event(placed_event("K-1"))
        buyer = bot.bind_web_chat("K-1")
        buyer.next_reply()  # linked
        assert "Step-by-step help" in buyer.next_reply()["text"]  # +2 s
        assert httpx.get(f"{bot.url}/healthz").json()["pending_follow_ups"] == 1
        bot.kill()  # the nudge (+4 s) is pending
        bot.start()
        assert "Pay for order K-1 now" in buyer.next_reply(timeout=20)["text"]
        assert "3% off" in buyer.next_reply(timeout=20)["text"]
        assert buyer.silence(4) == []
        headers = {"Authorization": f"Bearer {TOKEN}"}
        transcript = httpx.get(f"{bot.url}/api/v1/orders/K-1/transcript", headers=headers).json()
        texts = [m["text"] for m in transcript if m["author"] == "bot"]
        assert len(texts) == len(set(texts)) == 4  # linked, guide, nudge, offer: each once
    finally:
        bot.stop()


def test_redis_backend_survives_a_redis_restart_between_follow_ups(tmp_path: Path) -> None:
    (tmp_path / "redis").mkdir()
    with RedisServer(tmp_path / "redis") as redis:
        # the offer well after the nudge: a slow Redis restart on a loaded machine must not make the nudge
        # late enough to be skipped as overtaken (which is right for the bot, and not what this test is about)
        policy = SECONDS_POLICY.replace('offer_after = "6s"', 'offer_after = "16s"')
        bot = BotProcess(tmp_path, store_url=redis.url, policy=policy).start()
        try:
            bot.post_event(placed_event("R-1"))
            buyer = bot.bind_web_chat("R-1")
            buyer.next_reply()  # linked
            assert "Step-by-step help" in buyer.next_reply()["text"]
            redis.kill()  # SIGKILL: only what AOF has survives
            down = httpx.get(f"{bot.url}/chat/api/messages", params={"session": buyer.session}, timeout=30)
            # the page is told to try again, never a bare 500
            assert down.status_code == 503 and down.headers["retry-after"] == "1", down.text
            time.sleep(2.5)  # the nudge comes due while Redis is down
            redis.restart()
            assert "Pay for order R-1 now" in buyer.next_reply(timeout=30)["text"]
            assert "3% off" in buyer.next_reply(timeout=30)["text"]
            assert buyer.silence(4) == []
            bot.kill()  # and the bot itself, for good measure
            bot.start()
            assert buyer.silence(3) == []
        finally:
            bot.stop()
