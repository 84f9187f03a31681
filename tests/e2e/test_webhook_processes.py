"""Two real `buyerbot run` processes in Telegram webhook mode on one real
redis-server, the local Telegram fake delivering several updates at once and
spreading them over both processes like a load balancer: every buyer gets
exactly one reply per message, whichever process took it."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.e2e.process import BotProcess, placed_event
from tests.e2e.telegram_helpers import TG_TOKEN, telegram_bot
from tests.fakes.telegram_api import FakeTelegram
from tests.redis_server import RedisServer

pytestmark = pytest.mark.slow
#: returning buyers (no message when the order is placed) and no follow-up
#: within the test: the only messages are the replies to the buyers
POLICY = """
[unpaid]
payment_help_after = "5m"
nudge_after = "10m"
offer_after = "20m"
abandon_after = "30m"
[quiet_hours]
start = "00:00"
end = "00:00"
[limits.telegram]
rate = 1000
per_chat_rate = 100
per_chat_burst = 100
"""
THANKS, WELCOME = "thanks", "You're welcome"


@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[tuple[FakeTelegram, list[BotProcess]]]:
    with ExitStack() as stack:
        fake = stack.enter_context(FakeTelegram(TG_TOKEN, rate_limits=False, webhook_connections=8))
        (tmp_path / "redis").mkdir()
        redis = stack.enter_context(RedisServer(tmp_path / "redis"))
        bots = []
        for k in range(2):
            (tmp_path / f"p{k}").mkdir()
            bot = telegram_bot(tmp_path / f"p{k}", fake, webhook=True, policy=POLICY, store_url=redis.url)
            stack.callback(bot.stop)
            bots.append(bot)
        fake.balance_webhook([f"{bot.url}/telegram/webhook" for bot in bots])
        yield fake, bots


def test_two_webhook_processes_answer_every_message_once(two_processes: tuple[FakeTelegram, list[BotProcess]]) -> None:
    fake, bots = two_processes
    chats = list(range(60_001, 60_031))
    for n, chat in enumerate(chats):
        event = placed_event(f"W-{chat}", first_order=False, telegram_chat_id=chat)
        assert bots[n % 2].post_event(event).status_code == 202
    fake.wait_for(lambda: bots[0].health()["pending_follow_ups"] >= len(chats), 60, what="every order taken in")

    for _ in range(2):  # two messages from each buyer, all at once
        for chat in chats:
            fake.user_sends(chat, THANKS)

    def replies() -> Counter[int]:
        return Counter(m.chat_id for m in fake.sent_messages() if m.chat_id in chats)

    fake.wait_for(lambda: sum(replies().values()) >= 2 * len(chats), 60, what="a reply to every message")
    fake.wait_confirmed(30)
    time.sleep(1)  # anything doubled would show by now
    assert replies() == Counter({chat: 2 for chat in chats}), "exactly one reply per message"
    assert all(WELCOME in (m.text or "") for m in fake.sent_messages() if m.chat_id in chats)
    taken = Counter(a.url for a in fake.webhook_attempts if a.ok)
    assert sorted(taken) == sorted(f"{bot.url}/telegram/webhook" for bot in bots)
    assert min(taken.values()) >= len(chats) // 2, "the updates spread over both processes"
    assert sorted(bot.health()["scheduler"] for bot in bots) == ["leader", "standby"]
